"""`concord partner address ID`: a partner organisation's report address."""

from __future__ import annotations

import typer

from concord.cli.io import fail, settings

partner_app = typer.Typer(help="Partner organisations that report by email.", no_args_is_help=True)


@partner_app.command("address")
def address(partner_id: str) -> None:
    """Print the partner's address for reports by email (rotate it by raising its
    `generation` in the directory; revoke it with `revoked: true`)."""
    from concord.access.links import Signer
    from concord.cli.local import LOCAL_MAIL_DOMAIN
    from concord.config.directory import load_directory
    from concord.core.mailin import partner_address
    from concord.privacy.keys import ensure_keys

    conf = ensure_keys(settings())
    if not conf.inbound_domain and not conf.broker:  # `concord up`'s own mail domain
        conf = conf.with_(inbound_domain=LOCAL_MAIL_DOMAIN)
    if not conf.inbound_domain:
        fail("CONCORD_INBOUND_DOMAIN is not set: the domain whose mail comes to Concord")
    partner = load_directory(conf.directory).partner(partner_id)
    if partner is None:
        fail(f"no partner {partner_id!r} in the directory (`partners:`)")
    if partner.revoked:
        fail(f"partner {partner_id!r} is revoked (`revoked: true`)")
    assert conf.secret_key is not None
    key = Signer(conf.secret_key).reply_key
    print(partner_address(key, partner, conf.inbound_domain))


def register(app: typer.Typer) -> None:
    """Add `concord partner`."""
    app.add_typer(partner_app, name="partner")
