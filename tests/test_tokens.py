from __future__ import annotations

from digest.tokens import TokenSigner


def test_round_trip_and_binding() -> None:
    signer = TokenSigner("secret", "ki-morgenpost")
    token = signer.sign(42, "unsubscribe")
    assert signer.verify(token, "unsubscribe") == 42
    # Bound to its purpose, its list and its secret.
    assert signer.verify(token, "preferences") is None
    assert TokenSigner("secret", "other-list").verify(token, "unsubscribe") is None
    assert TokenSigner("other-secret", "ki-morgenpost").verify(token, "unsubscribe") is None


def test_altered_tokens_are_refused() -> None:
    signer = TokenSigner("secret", "list")
    token = signer.sign(7, "unsubscribe")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert signer.verify(forged, "unsubscribe") is None
    assert signer.verify("", "unsubscribe") is None
    assert signer.verify("not.a.token", "unsubscribe") is None
    other = signer.sign(8, "unsubscribe")
    payload, signature = token.split(".")
    assert signer.verify(other.split(".")[0] + "." + signature, "unsubscribe") is None
    assert payload


def test_link_tokens_are_what_itsdangerous_signs() -> None:
    # sign() computes the HMAC itself (for speed); verify() uses itsdangerous.
    signer = TokenSigner("secret", "ki-morgenpost")
    for purpose in ("unsubscribe", "preferences"):
        reference = signer._signers[purpose]
        for subscriber_id in (0, 7, 42, 10**12):
            token = signer.sign(subscriber_id, purpose)
            assert token == reference.sign(str(subscriber_id)).decode()
            assert signer.verify(token, purpose) == subscriber_id
