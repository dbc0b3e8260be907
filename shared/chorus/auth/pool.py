"""Adapter: the Cognito user pool itself (boto3 ``cognito-idp``). Passwords go to the pool and nowhere
else; Chorus stores no password, only who is a member of what.

Used by ``POST /me/sign-out`` (the pool's global sign-out ends every refresh token of the person), and by
the CLI for the first owner (``chorus user create``) and for signing in from a terminal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chorus.config import get_settings
from chorus.errors import Unauthorized, ValidationFailed


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    refresh_token: str | None
    expires_in: int


class UserPool:
    def __init__(self, client: Any, pool_id: str, client_id: str) -> None:
        self._client = client
        self.pool_id = pool_id
        self.client_id = client_id

    def global_sign_out(self, access_token: str) -> None:
        """End every refresh token of the token's owner (new ID/access tokens cannot be had)."""
        try:
            self._client.global_sign_out(AccessToken=access_token)
        except self._client.exceptions.NotAuthorizedException as exc:
            raise Unauthorized("the pool refused the access token (signed out already?)") from exc

    def create_user(self, email: str, password: str) -> str:
        """A confirmed user with a permanent password (the first owner, from the CLI); their ``sub``."""
        try:
            made = self._client.admin_create_user(
                UserPoolId=self.pool_id,
                Username=email,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",
            )
            self._client.admin_set_user_password(
                UserPoolId=self.pool_id, Username=email, Password=password, Permanent=True
            )
        except self._client.exceptions.UsernameExistsException:
            return self.user_id(email)
        except self._client.exceptions.InvalidPasswordException as exc:
            raise ValidationFailed.on("password", str(exc), "password_policy") from exc
        return _sub(made["User"].get("Attributes", []))

    def user_id(self, email: str) -> str:
        found = self._client.admin_get_user(UserPoolId=self.pool_id, Username=email)
        return _sub(found.get("UserAttributes", []))

    def sign_in(self, email: str, password: str) -> Tokens:
        try:
            answer = self._client.initiate_auth(
                ClientId=self.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": password},
            )
        except self._client.exceptions.NotAuthorizedException as exc:
            raise Unauthorized("wrong e-mail or password") from exc
        return _tokens(answer["AuthenticationResult"])

    def refresh(self, refresh_token: str) -> Tokens:
        try:
            answer = self._client.initiate_auth(
                ClientId=self.client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token},
            )
        except self._client.exceptions.NotAuthorizedException as exc:
            raise Unauthorized("the refresh token was refused (signed out?)") from exc
        return _tokens(answer["AuthenticationResult"], refresh_token)


def _sub(attributes: list[dict[str, str]]) -> str:
    for attribute in attributes:
        if attribute["Name"] == "sub":
            return attribute["Value"]
    raise RuntimeError("the user pool answered a user without a sub")


def _tokens(result: dict[str, Any], refresh_token: str | None = None) -> Tokens:
    return Tokens(
        result["IdToken"],
        result["AccessToken"],
        result.get("RefreshToken", refresh_token),
        int(result.get("ExpiresIn", 3600)),
    )


def default_pool() -> UserPool | None:
    settings = get_settings()
    if not settings.cognito_user_pool_id:
        return None
    from chorus.aws import client

    return UserPool(client("cognito-idp"), settings.cognito_user_pool_id, settings.cognito_client_id)
