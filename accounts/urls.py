from django.urls import path

from accounts import views

urlpatterns = [
    path("google/login/", views.GoogleLoginView.as_view(), name="auth-google-login"),
    path("facebook/login/", views.FacebookLoginView.as_view(), name="auth-facebook-login"),
    path("user/", views.CurrentUserView.as_view(), name="auth-user"),
    path("user/export/", views.UserExportView.as_view(), name="auth-user-export"),
    path("token/refresh/", views.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("logout/", views.LogoutView.as_view(), name="auth-logout"),
]
