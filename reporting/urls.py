"""HTTP routes of the live dashboards; their live parts are the WebSockets in ``chatops.routing``."""

from django.urls import path

from reporting import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("operations/board/", views.operations_board, name="operations-board"),
    path("console/fame/", views.wall_of_fame, name="wall-of-fame"),
]
