"""The finding codes of registries and signatures (PK920–PK934), registered without importing the HTTP or
crypto libraries, so the CLI loads fast and every code is known as soon as it does."""

from __future__ import annotations

from .findings import Severity, register_code

G = "registry"
register_code("PK920", "registry-reference", Severity.ERROR,
              "A registry reference is not of the form oci://HOST[:PORT]/REPOSITORY[:TAG][@sha256:DIGEST].",
              hint="Write e.g. oci://registry.example.com/team/op-lead-management:1.0.0; repository names are "
                   "lower case.",
              example="oci://localhost:5000/Acme: repository 'Acme' must be lower case", group=G)
register_code("PK921", "registry-unreachable", Severity.ERROR,
              "The registry could not be reached, or stopped answering part way.",
              hint="Check the host and port, that the registry is running, and --plain-http for a registry "
                   "without TLS on this machine; nothing was written locally.",
              example="oci://localhost:5000/acme/olm: cannot connect to localhost:5000 (Connection refused)",
              group=G)
register_code("PK922", "registry-auth", Severity.ERROR,
              "The registry refused the credentials, or needs some and none were found.",
              hint="Log in (`docker login HOST` writes the credentials programkit reads), or pass --username with "
                   "--password-stdin, or set PROGRAMKIT_REGISTRY_USERNAME and PROGRAMKIT_REGISTRY_PASSWORD.",
              example="oci://localhost:5000/acme/olm: the registry refused the credentials (from --username)",
              group=G)
register_code("PK923", "registry-not-found", Severity.ERROR,
              "The repository, tag or digest is not in the registry.",
              hint="`programkit tags oci://HOST/REPOSITORY` lists the versions there.",
              example="oci://localhost:5000/acme/olm:9.9.9: not found (MANIFEST_UNKNOWN)", group=G)
register_code("PK924", "registry-digest-mismatch", Severity.ERROR,
              "Content from the registry does not match its digest: it was changed or damaged on the way or in "
              "storage.",
              hint="Nothing was written. Report it to whoever runs the registry; push the bundle again from its "
                   "source.",
              example="blob sha256:4b1a…: received bytes have sha256 9f2c…", group=G)
register_code("PK925", "registry-not-a-bundle", Severity.ERROR,
              "The artifact at a reference is not a programkit bundle (another artifact type or media type).",
              hint="Check the reference: `programkit push` stores bundles with artifact type "
                   "application/vnd.programkit.bundle.v1.",
              example="oci://localhost:5000/library/alpine:3: artifact type application/vnd.oci.image.config.v1+json "
                      "is not a programkit bundle", group=G)
register_code("PK926", "registry-tag-exists", Severity.ERROR,
              "The tag already points to different content; programkit does not move a tag without --force.",
              hint="Bump the bundle's version (a version names one content), push under another tag, or pass --force "
                   "to move the tag.",
              example="oci://localhost:5000/acme/olm:1.0.0 points to sha256:4b1a…, not to this bundle (sha256:9f2c…)",
              group=G)
register_code("PK927", "registry-error", Severity.ERROR,
              "The registry answered with an error programkit cannot act on.",
              hint="The message carries the registry's status and error code; check the registry's logs.",
              example="oci://localhost:5000/acme/olm: PUT manifest: HTTP 500 (UNKNOWN)", group=G)
register_code("PK928", "plain-http-refused", Severity.ERROR,
              "Plain HTTP was asked for a registry that is not on this machine.",
              hint="Plain HTTP sends bundles and credentials unencrypted: it is allowed for localhost and 127.0.0.1, "
                   "or for hosts listed in PROGRAMKIT_INSECURE_REGISTRIES.",
              example="--plain-http: registry.example.com is not on this machine", group=G)
register_code("PK929", "registry-too-large", Severity.ERROR,
              "An artifact from the registry is larger than programkit will read.",
              hint="Raise --max-size (or PROGRAMKIT_MAX_SIZE) if the bundle is really that large.",
              example="blob sha256:4b1a… is 9.0 GiB; the limit is 4.0 GiB", group=G)

register_code("PK930", "signature-missing", Severity.ERROR,
              "A signature is required and the bundle in the registry has none.",
              hint="Ask the publisher to run `programkit signature sign REF --key KEY`; nothing was written.",
              example="oci://localhost:5000/acme/olm:1.0.0: no signature (sha256:4b1a…)", group=G)
register_code("PK931", "signature-untrusted", Severity.ERROR,
              "The bundle is signed, but by no key you trust.",
              hint="Pass the publisher's public key with --trusted-key (or PROGRAMKIT_TRUSTED_KEYS) once you have "
                   "checked it with them; nothing was written.",
              example="signed by key sha256:77c1…, which is not among the trusted keys", group=G)
register_code("PK932", "signature-invalid", Severity.ERROR,
              "A signature does not verify: it was made over other content, or the signature bytes are wrong.",
              hint="Do not use this bundle; tell its publisher. Nothing was written.",
              example="signature sha256:9e0a… is over sha256:12ab…, not over this bundle (sha256:4b1a…)", group=G)
register_code("PK933", "signing-key-unreadable", Severity.ERROR,
              "A signing or trusted key file cannot be read, or is not an Ed25519 key in PEM.",
              hint="`programkit signature keygen KEY` writes KEY (private) and KEY.pub (public, to share).",
              example="acme.pub: not an Ed25519 public key in PEM", group=G)

register_code("PK934", "registry-credentials-unreadable", Severity.ERROR,
              "The Docker credentials file or a credential helper it names could not be used.",
              hint="Check ~/.docker/config.json (or $DOCKER_CONFIG/config.json) and that the docker-credential-NAME "
                   "helper it names is installed and works (`docker-credential-NAME list`).",
              example="docker-credential-pass: exited with status 1", group=G)
