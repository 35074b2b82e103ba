from config.exceptions import DomainError


class InvalidRefreshToken(DomainError):
    code = "token_not_valid"
    default_detail = "The refresh token is invalid, expired or already used."
