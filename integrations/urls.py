from django.urls import path

from integrations import api

app_name = "api"

urlpatterns = [
    path("leads/", api.LeadList.as_view(), name="leads"),
    path("leads/<int:pk>/", api.LeadDetail.as_view(), name="lead"),
    path("conversations/", api.ConversationList.as_view(), name="conversations"),
    path("conversations/<int:pk>/", api.ConversationDetail.as_view(), name="conversation"),
    path("handoffs/", api.HandoffList.as_view(), name="handoffs"),
    path("handoffs/<int:pk>/", api.HandoffDetail.as_view(), name="handoff"),
    path("ratings/", api.RatingList.as_view(), name="ratings"),
    path("kpis/", api.KpiFigures.as_view(), name="kpis"),
    path("knowledge/articles/", api.ArticleCreate.as_view(), name="articles"),
]
