from django.urls import path

from accounts.auth_views import LogoutView, RefreshView, TokenView
from accounts.views import MeView, UserListView

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token_obtain_pair"),
    path("auth/token/refresh/", RefreshView.as_view(), name="token_refresh"),
    path("auth/logout/", LogoutView.as_view(), name="logout"),
    path("auth/me/", MeView.as_view(), name="me"),
    path("users/", UserListView.as_view(), name="user-list"),
]
