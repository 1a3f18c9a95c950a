"""Who may call our services and touch our keys (docs/design.md sections 3 and 8).

- `tokens`: EdDSA access tokens, minted with the private key and verified with the public key alone.
- `revocation`: the revoked token ids every service keeps, fed by TOKEN_REVOKED and stored in its schema.
- `dependency`: FastAPI dependencies that require a scope of the caller's token.
- `acl`: Valkey ACL users that confine each agent pool to its own keys.
"""

from rig_identity.dependency import Authenticator
from rig_identity.revocation import REVOKED_TOKENS_SQL, RevocationSet
from rig_identity.tokens import SCOPES, InvalidToken, Principal, generate_keypair, mint, verify

__all__ = [
    "REVOKED_TOKENS_SQL",
    "SCOPES",
    "Authenticator",
    "InvalidToken",
    "Principal",
    "RevocationSet",
    "generate_keypair",
    "mint",
    "verify",
]
