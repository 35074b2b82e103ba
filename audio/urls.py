from rest_framework.routers import SimpleRouter

from audio.views import AudioFileViewSet

router = SimpleRouter(use_regex_path=False)
router.register("", AudioFileViewSet, basename="audio-file")

urlpatterns = router.urls
