from django.urls import path

from integrations import api

app_name = "api"

urlpatterns = [
    path("leads/", api.LeadList.as_view(), name="leads"),
    path("leads/<int:pk>/", api.LeadDetail.as_view(), name="lead"),
    path("conversations/", api.ConversationList.as_view(), name="conversations"),
    path("conversations/<int:pk>/", api.ConversationDetail.as_view(), name="conversation"),
]
