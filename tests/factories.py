import factory

from accounts.models import User
from accounts.services import user_create


class UserFactory(factory.Factory):
    """Users made the way the product makes them: through `user_create`, with a wallet."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    provider = "google"
    provider_uid = factory.Sequence(lambda n: f"uid-{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs) -> User:
        return user_create(**kwargs)
