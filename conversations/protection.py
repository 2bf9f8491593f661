"""What a tenant's chat text goes through before it is stored: masking, then sealing if it encrypts.

``protect`` is the one call the services make for every text a visitor or an agent wrote. The hot path
of a message knows only ids, so a tenant's policy is also kept per process for a few seconds
(``policy_for_tenant_id``); the message statement itself checks the encryption flag, so a policy
read a moment ago never stores a row the wrong way (conversations.services.steady_state.store_in_one_go).
"""

from __future__ import annotations

from dataclasses import dataclass

from conversations import redaction, sealing
from conversations.memo import ProcessMemo
from tenants.models import Tenant

POLICY_SECONDS = 5.0
CONVERSATION_TENANT_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class TextPolicy:
    """How one tenant's chat text is stored."""

    encrypt: bool = False
    mask_ibans: bool = False
    mask_personal_ids: bool = False

    @classmethod
    def of(cls, tenant: Tenant) -> TextPolicy:
        return cls(
            encrypt=tenant.encrypt_messages, mask_ibans=tenant.mask_ibans, mask_personal_ids=tenant.mask_personal_ids
        )


@dataclass(frozen=True)
class Protected:
    """A text ready to store (masked; ``Sealed`` when the tenant encrypts) and how many card numbers it had."""

    text: str
    cards: int = 0


def protect(text: str, *, policy: TextPolicy) -> Protected:
    """Mask card numbers (and IBANs, identity codes as the tenant chose), then mark it sealed if it encrypts."""
    redacted = redaction.redact(text, ibans=policy.mask_ibans, personal_ids=policy.mask_personal_ids)
    return Protected(text=sealing.sealed_if(redacted.text, policy.encrypt), cards=redacted.cards)


def protect_for(tenant: Tenant, text: str) -> str:
    """Return a tenant's free text (masked, sealed if it encrypts) as it is to be stored.

    The policy is the remembered one (a few seconds old at most), not the tenant object's, which a
    socket may have held since long before the flag changed.
    """
    return protect(text, policy=policy_for_tenant_id(tenant.pk)).text


def seal_for(tenant: Tenant, value: str) -> str:
    """Return a contact detail (a name, an address, a phone number) as the tenant stores it."""
    return sealing.sealed_if(value, policy_for_tenant_id(tenant.pk).encrypt)


def _policy_of_row(row: dict | None) -> TextPolicy:
    if row is None:
        return TextPolicy()
    return TextPolicy(
        encrypt=row["encrypt_messages"], mask_ibans=row["mask_ibans"], mask_personal_ids=row["mask_personal_ids"]
    )


def _read_policy(tenant_id: int) -> TextPolicy:
    row = Tenant.objects.filter(pk=tenant_id).values("encrypt_messages", "mask_ibans", "mask_personal_ids").first()
    return _policy_of_row(row)


_policies: ProcessMemo[TextPolicy] = ProcessMemo(POLICY_SECONDS)
# A conversation's tenant never changes: kept as long as the memo keeps anything.
_tenants_of_conversations: ProcessMemo[int] = ProcessMemo(CONVERSATION_TENANT_SECONDS)


def policy_for_tenant_id(tenant_id: int) -> TextPolicy:
    """Return a tenant's policy as read at most a few seconds ago in this process."""
    return _policies.get_or_read(tenant_id, lambda: _read_policy(tenant_id))


def policy_for_conversation_id(conversation_id: int) -> TextPolicy | None:
    """Return the policy of a conversation's tenant if this process knows the tenant, else None."""
    tenant_id = _tenants_of_conversations.get(conversation_id)
    return None if tenant_id is None else policy_for_tenant_id(tenant_id)


def remember_conversation(*, conversation_id: int, tenant_id: int) -> None:
    """Note a conversation's tenant for the agent's hot path."""
    _tenants_of_conversations.put(conversation_id, tenant_id)


def forget_policies() -> None:
    """Drop the policies this process remembers (after a tenant's options changed here)."""
    _policies.clear()
