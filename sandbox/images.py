"""What the sandbox's simulated containers do: a small catalog of images and how each behaves.

A container's fate follows from its spec, as on a node: an image that does not exist cannot be
pulled; a missing ConfigMap key stops it from being created; an app that needs an environment
variable crashes without it (with its stack trace in the logs); an app that needs more memory than
its limit is OOMKilled; a probe on a port or path the app does not serve fails. Fixing the spec fixes
the pod, as it would on a cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["DEMO_REGISTRY", "Image", "lookup_image", "parse_image", "pull_error"]

DEMO_REGISTRY = "ghcr.io/opsgraph-demo/"
_MISSING_WORDS = ("nonexistent", "doesnotexist", "does-not-exist", "notexist", "invalid-image", "no-such")
_VERSION_TAGS = r"latest|stable|mainline|alpine|bookworm|bullseye|slim|[0-9]+(\.[0-9]+)*(-[a-z0-9.]+)?"


@dataclass(frozen=True)
class Image:
    """How a container of this image behaves."""

    repository: str
    tags: str = _VERSION_TAGS
    memory_mib: float = 24.0
    cpu_cores: float = 0.005
    ports: tuple[int, ...] = ()
    http_paths: tuple[str, ...] = ("/",)
    required_env: tuple[str, ...] = ()
    start_log: tuple[str, ...] = ("started",)
    crash_log: tuple[str, ...] = ()
    needs_api: tuple[tuple[str, str, str], ...] = ()
    """(verb, api group, resource) the app calls with its ServiceAccount at start-up."""
    shell: bool = False
    """A general-purpose image whose behaviour comes from its command (busybox, alpine, ...)."""
    extra: dict[str, str] = field(default_factory=dict)
    known: bool = True
    """False for an image outside the catalog: its HTTP paths are unknown, so a probe passes on any."""

    def serves(self, path: str) -> bool:
        """Whether its HTTP server answers `path` (query ignored) with 200; anything else is a 404."""
        return not self.known or (path.split("?", 1)[0] or "/") in self.http_paths


_PY_CRASH = (
    "Traceback (most recent call last):",
    '  File "/app/checkout/main.py", line 42, in <module>',
    "    app = create_app()",
    '  File "/app/checkout/main.py", line 27, in create_app',
    '    payments = PaymentsClient(os.environ["{var}"])',
    '  File "/usr/local/lib/python3.12/os.py", line 714, in __getitem__',
    "    raise KeyError(key) from None",
    "KeyError: '{var}'",
)

_CATALOG = [
    Image(
        "nginx",
        ports=(80,),
        http_paths=("/", "/index.html", "/50x.html"),  # the default server's files; the rest is 404
        memory_mib=8,
        cpu_cores=0.002,
        start_log=(
            "/docker-entrypoint.sh: Configuration complete; ready for start up",
            "2026/01/01 00:00:00 [notice] 1#1: nginx/1.27.3",
            "2026/01/01 00:00:00 [notice] 1#1: start worker processes",
        ),
    ),
    Image(
        "httpd",
        ports=(80,),
        http_paths=("/", "/index.html"),  # htdocs/index.html ("It works!"); the rest is 404
        memory_mib=10,
        start_log=("AH00094: Command line: 'httpd -D FOREGROUND'",),
    ),
    Image("redis", ports=(6379,), memory_mib=12, start_log=("* Ready to accept connections tcp",)),
    Image(
        "postgres",
        ports=(5432,),
        memory_mib=60,
        required_env=("POSTGRES_PASSWORD",),
        start_log=("LOG:  database system is ready to accept connections",),
        crash_log=(
            "Error: Database is uninitialized and superuser password is not specified.",
            "       You must specify POSTGRES_PASSWORD to a non-empty value for the",
            '       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".',
        ),
    ),
    Image(
        "mysql",
        ports=(3306,),
        memory_mib=380,
        required_env=("MYSQL_ROOT_PASSWORD",),
        start_log=("[Server] /usr/sbin/mysqld: ready for connections. Version: '8.4.3'",),
        crash_log=(
            "[ERROR] [Entrypoint]: Database is uninitialized and password option is not specified",
            "    You need to specify one of the following as an environment variable:",
            "    - MYSQL_ROOT_PASSWORD",
            "    - MYSQL_ALLOW_EMPTY_PASSWORD",
            "    - MYSQL_RANDOM_ROOT_PASSWORD",
        ),
    ),
    Image("busybox", shell=True),
    Image("alpine", shell=True),
    Image("ubuntu", shell=True),
    Image("debian", shell=True),
    Image("curlimages/curl", shell=True),
    Image("bitnami/kubectl", shell=True),
    Image("python", shell=True),
    Image(
        f"{DEMO_REGISTRY}frontend",
        tags=r"1\.8\.0|1\.8\.1",
        ports=(8080,),
        memory_mib=90,
        cpu_cores=0.04,
        http_paths=("/", "/healthz", "/ready"),
        start_log=("frontend 1.8 listening on :8080", "GET /healthz 200 0.4ms"),
    ),
    Image(
        f"{DEMO_REGISTRY}backend",
        tags=r"1\.[0-9]\.[0-9]",
        ports=(8080,),
        memory_mib=150,
        cpu_cores=0.03,
        http_paths=("/", "/healthz"),
        start_log=("backend listening on :8080",),
    ),
    Image("neo4j", ports=(7474, 7687), memory_mib=520, cpu_cores=0.05, start_log=("INFO  Started.",)),
    Image(
        f"{DEMO_REGISTRY}checkout",
        tags=r"2\.3\.[0-9]",
        ports=(8080,),
        memory_mib=120,
        cpu_cores=0.03,
        http_paths=("/healthz",),
        required_env=("PAYMENT_SERVICE_URL",),
        start_log=("INFO checkout 2.3 starting", "INFO connected to payments", "INFO listening on :8080"),
        crash_log=("INFO checkout 2.3 starting", *_PY_CRASH),
    ),
    Image(
        f"{DEMO_REGISTRY}payments",
        tags=r"1\.4\.[0-9]",
        ports=(8080,),
        memory_mib=260,
        cpu_cores=0.05,
        http_paths=("/healthz", "/actuator/health"),
        start_log=("Started PaymentsApplication in 4.2 seconds", "Tomcat started on port 8080"),
    ),
    Image(
        f"{DEMO_REGISTRY}catalog",
        tags=r"3\.1\.0|3\.0\.[0-9]",
        ports=(8080,),
        memory_mib=70,
        cpu_cores=0.02,
        http_paths=("/healthz",),
        start_log=("catalog service ready, 1,204 products loaded",),
    ),
    Image(
        f"{DEMO_REGISTRY}recommender",
        tags=r"0\.9\.[0-9]",
        ports=(8080,),
        memory_mib=700,
        cpu_cores=0.2,
        http_paths=("/healthz",),
        start_log=("loading embedding model (612 MiB) ...", "model loaded", "serving on :8080"),
    ),
    Image(
        f"{DEMO_REGISTRY}inventory-sync",
        tags=r"1\.0\.[0-9]",
        memory_mib=40,
        cpu_cores=0.01,
        needs_api=(("list", "", "configmaps"), ("watch", "", "configmaps")),
        start_log=("inventory-sync: watching configmaps with label inventory=true", "synced 12 configmaps"),
        crash_log=(
            "E0101 00:00:01 reflector.go:150] Failed to watch *v1.ConfigMap: configmaps is forbidden: "
            'User "system:serviceaccount:{namespace}:{serviceaccount}" cannot list resource "configmaps" '
            'in API group "" in the namespace "{namespace}"',
            "F0101 00:00:31 main.go:88] timed out waiting for caches to sync",
        ),
    ),
    Image(
        f"{DEMO_REGISTRY}analytics",
        tags=r"5\.2\.[0-9]",
        ports=(8080,),
        memory_mib=350,
        cpu_cores=0.12,
        http_paths=("/healthz",),
        start_log=("analytics worker up: 4 threads, queue=events",),
    ),
    Image(
        f"{DEMO_REGISTRY}trainer",
        tags=r"2\.0\.[0-9]",
        memory_mib=2048,
        cpu_cores=6.0,
        start_log=("epoch 1/40",),
    ),
]
_BY_REPO = {i.repository: i for i in _CATALOG}


def parse_image(image: str) -> tuple[str, str]:
    """`nginx:1.27` → ("nginx", "1.27"); `docker.io/library/nginx` → ("nginx", "latest")."""
    ref = image.split("@", 1)[0]
    name, tag = ref, "latest"
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = ref.rsplit(":", 1)
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/", "library/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return name, tag


def lookup_image(image: str) -> Image:
    """The behaviour of an image; an image we know nothing about runs quietly."""
    name, _ = parse_image(image)
    return _BY_REPO.get(name) or Image(name, known=False)


def pull_error(image: str) -> str | None:
    """Why `image` cannot be pulled, in the container runtime's words, or None when it can."""
    name, tag = parse_image(image)
    known = _BY_REPO.get(name)
    full = (
        name if "." in name.split("/", 1)[0] else f"docker.io/{'library/' if '/' not in name else ''}{name}"
    )
    missing = (known is None and name.startswith(DEMO_REGISTRY)) or any(w in image for w in _MISSING_WORDS)
    if known is not None and not re.fullmatch(known.tags, tag):
        missing = True
    if not name or not re.fullmatch(r"[a-z0-9._/:-]+", name):
        return f'failed to pull and unpack image "{image}": invalid reference format'
    if missing:
        return (
            f'rpc error: code = NotFound desc = failed to pull and unpack image "{full}:{tag}": '
            f'failed to resolve reference "{full}:{tag}": {full}:{tag}: not found'
        )
    return None
