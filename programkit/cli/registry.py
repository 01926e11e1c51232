"""``programkit push``, ``pull``, ``tags`` and the ``signature`` group; the registry options every command
that reads a bundle accepts (so ``oci://…`` works wherever a bundle path does)."""

from __future__ import annotations

import functools
import json
import sys
from typing import Any, Callable

import click

from .. import registry_findings  # noqa: F401  (the codes; the HTTP and crypto libraries load on first use)
from ..errors import BadInput, ProgramkitError
from .common import fail, format_option, limit_options, make_limits

TRUSTED_ENV, REQUIRE_ENV = "PROGRAMKIT_TRUSTED_KEYS", "PROGRAMKIT_REQUIRE_SIGNATURE"


def registry_options(*, signature: bool = False) -> Callable[[Callable], Callable]:
    """--plain-http, --username/--password-stdin (and with ``signature``: --require-signature, --trusted-key):
    the command runs with them as the registry options (:func:`programkit.registry.using`) and receives them as
    ``registry`` if it has that parameter."""

    def decorate(fn: Callable) -> Callable:
        import inspect

        wants = "registry" in inspect.signature(fn).parameters

        @functools.wraps(fn)
        def wrapper(*args: Any, plain_http: bool, username: str | None, password_stdin: bool,
                    require_signature: bool = False, trusted_keys: tuple[str, ...] = (), **kw: Any) -> Any:
            from ..registry import RegistryOptions, using

            options = RegistryOptions.from_env()
            options.plain_http = plain_http or options.plain_http
            if password_stdin and username is None:
                raise click.UsageError("--password-stdin goes with --username")
            if username is not None:
                if not password_stdin:
                    raise click.UsageError("--username needs --password-stdin (programkit never takes a password "
                                           "on the command line, where other users and shell history see it)")
                options.username = username
                options.password = sys.stdin.read().rstrip("\r\n")
            options.require_signature = require_signature
            options.trusted_keys = tuple(trusted_keys) or options.trusted_keys
            if wants:
                kw["registry"] = options
            with using(options):
                return fn(*args, **kw)

        if signature:
            wrapper = click.option("--trusted-key", "trusted_keys", multiple=True, metavar="PUB",
                                   type=click.Path(dir_okay=False), envvar=TRUSTED_ENV, show_envvar=True,
                                   help="A public key (PEM) whose signatures you accept; repeat for several.")(wrapper)
            wrapper = click.option("--require-signature", is_flag=True, envvar=REQUIRE_ENV, show_envvar=True,
                                   help="Refuse a bundle that no trusted key signed, before anything is written "
                                        "(a local path is refused: only registry artifacts carry signatures).")(wrapper)
        wrapper = click.option("--password-stdin", is_flag=True,
                               help="Read the registry password (or token) from standard input.")(wrapper)
        wrapper = click.option("--username", metavar="USER", default=None,
                               help="Registry user name [else $PROGRAMKIT_REGISTRY_USERNAME, else the Docker "
                                    "credentials file].")(wrapper)
        wrapper = click.option("--plain-http", is_flag=True,
                               help="Talk to an oci:// registry over HTTP, not HTTPS (localhost only, or hosts in "
                                    "$PROGRAMKIT_INSECURE_REGISTRIES).")(wrapper)
        return wrapper

    return decorate


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.command("push")
@click.argument("bundle", type=click.Path())
@click.argument("reference", metavar="oci://HOST[:PORT]/REPO[:TAG]")
@click.option("--force", is_flag=True, help="Move the tag even if it points to other content.")
@format_option(("text", "json"))
@registry_options()
def push_cmd(bundle: str, reference: str, force: bool, fmt: str, registry: Any) -> None:
    """Pack BUNDLE (a directory or .zip) and push it to a registry as an OCI artifact.

    The tag defaults to the bundle's version. The same bundle always gives the
    same digest; a tag that already points to other content is refused
    unless --force.

    Exit status: 0 pushed (or already there), 1 the bundle has errors or the
    registry failed, 2 bad input, unreachable registry, refused credentials,
    or the tag holds other content.
    """
    from ..registry import push

    try:
        result = push(bundle, reference, registry, force=force)
    except ProgramkitError as err:
        fail(err)
    if fmt == "json":
        return _dump(result.to_dict())
    if result.already:
        click.echo(f"{result.reference} already holds this bundle; nothing was pushed\n  digest {result.digest}")
        return
    click.echo(f"pushed {result.reference}\n  digest {result.digest}\n"
               f"  archive {result.size} bytes, sha256 {result.archive_sha256}")
    if result.moved_from:
        click.echo(f"  moved the tag from {result.moved_from} (--force)")


@click.command("pull")
@click.argument("reference", metavar="oci://HOST[:PORT]/REPO[:TAG|@sha256:DIGEST]")
@click.option("-o", "--output", required=True, type=click.Path(),
              help="Bundle directory to create, or NAME.zip to save the archive as it is.")
@click.option("--force", is_flag=True, help="Replace an existing output (a bundle directory or the .zip).")
@format_option(("text", "json"))
@limit_options
@registry_options(signature=True)
def pull_cmd(reference: str, output: str, force: bool, fmt: str, max_files: int | None, max_size: str | None,
             max_ratio: float | None, registry: Any) -> None:
    """Pull a bundle from a registry into a directory (or a .zip with -o NAME.zip).

    Without a tag or digest, the newest version is pulled. Everything is
    checked before the output appears: the signature (--require-signature),
    the archive's digest, the archive, every file's sha256.

    Exit status: 0 pulled, 1 tampered, unsigned or not a bundle (nothing
    written), 2 bad input, unreachable registry, refused credentials, or the
    output exists (see --force).
    """
    from ..registry import pull

    try:
        result = pull(reference, output, registry, force=force, limits=make_limits(max_files, max_size, max_ratio))
    except ProgramkitError as err:
        fail(err)
    if fmt == "json":
        return _dump(result.to_dict())
    click.echo(f"pulled {result.reference}\n  into {result.path} ({result.files} files, digests verified)")
    for key in result.signed_by:
        click.echo(f"  signed by trusted key {key}")


@click.command("tags")
@click.argument("repository", metavar="oci://HOST[:PORT]/REPO")
@format_option(("text", "json"))
@registry_options()
def tags_cmd(repository: str, fmt: str, registry: Any) -> None:
    """List the versions of a bundle in a registry, newest first (semantic version order).

    Tags that are not versions follow, by name; the tags signatures are kept
    under (sha256-…) are not listed.
    """
    from ..oci import printable
    from ..registry import list_tags

    try:
        result = list_tags(repository, registry)
    except ProgramkitError as err:
        fail(err)
    if fmt == "json":
        return _dump(result.to_dict())
    if not result.versions and not result.others:
        click.echo(f"no tags in {result.repository}")
    for tag in result.versions:
        click.echo(printable(tag))
    if result.others:
        click.echo("other tags: " + ", ".join(printable(t) for t in result.others))


@click.group("signature")
def signature_group() -> None:
    """Sign bundles in a registry and check their signatures (Ed25519).

    keygen makes a key pair; sign stores a detached signature beside the
    bundle in the registry; verify checks it against keys you trust.
    `import` and `pull` take --require-signature.
    """


@signature_group.command("keygen")
@click.argument("key", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace existing KEY and KEY.pub.")
def keygen_cmd(key: str, force: bool) -> None:
    """Write a new Ed25519 key pair: KEY (private, mode 0600; keep it secret) and KEY.pub (share it)."""
    from ..signing import keygen

    try:
        pair = keygen(key, force=force)
    except ProgramkitError as err:
        fail(err)
    click.echo(f"private key {pair.private} (keep it secret)\npublic key  {pair.public} (give it to whoever "
               f"verifies)\nkey id      {pair.key_id}")


@signature_group.command("sign")
@click.argument("reference", metavar="oci://HOST[:PORT]/REPO[:TAG|@sha256:DIGEST]")
@click.option("--key", "key", required=True, type=click.Path(dir_okay=False), help="Private key (PEM) to sign with.")
@format_option(("text", "json"))
@registry_options()
def sign_cmd(reference: str, key: str, fmt: str, registry: Any) -> None:
    """Sign the bundle at REFERENCE and store the signature in the registry beside it.

    The signature covers the bundle's manifest digest (which covers every
    byte of the bundle), not the tag: moving the tag later does not carry it.
    """
    from ..signing import sign

    try:
        result = sign(reference, key, registry)
    except ProgramkitError as err:
        fail(err)
    if fmt == "json":
        return _dump(result.to_dict())
    done = "was already signed with this key" if result.already else "signed"
    click.echo(f"{result.reference} {done}\n  key id    {result.key_id}\n  signature {result.signature} "
               f"(stored through the {result.stored_as})")


@signature_group.command("verify")
@click.argument("reference", metavar="oci://HOST[:PORT]/REPO[:TAG|@sha256:DIGEST]")
@click.option("--trusted-key", "keys", multiple=True, metavar="PUB", type=click.Path(dir_okay=False),
              envvar=TRUSTED_ENV, show_envvar=True, help="A public key (PEM) you trust; repeat for several.")
@format_option(("text", "json"))
@registry_options()
def verify_cmd(reference: str, keys: tuple[str, ...], fmt: str, registry: Any) -> None:
    """Check the signatures of the bundle at REFERENCE against the keys you trust.

    Exit status: 0 a trusted key signed it, 1 unsigned, untrusted or a bad
    signature, 2 bad input or unreachable registry.
    """
    from ..signing import verify

    try:
        if not keys:
            raise BadInput("signature verify needs at least one --trusted-key PUB (or PROGRAMKIT_TRUSTED_KEYS)")
        result = verify(reference, keys, registry)
    except ProgramkitError as err:
        fail(err)
    if fmt == "json":
        _dump(result.to_dict())
    else:
        click.echo(f"{result.reference}")
        for c in result.checks:
            click.echo(f"  {c.status:<13} {c.message}")
        if not result.checks:
            click.echo("  no signatures")
    if not result.ok:
        if fmt == "json":
            raise SystemExit(result.error().exit_code)
        fail(result.error())


COMMANDS = [push_cmd, pull_cmd, tags_cmd, signature_group]
