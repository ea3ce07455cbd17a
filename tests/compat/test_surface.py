"""The 1.x API surface: names, signatures, models and `parse_repository_tag`, checked against
1.2.0's published API (its `__all__` and signatures are the specification here)."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import registry_api_v2_client as compat
import registry_async
from registry_proto import ValidationError
from registry_proto._reference import parse_reference

# 1.2.0's `__all__`.
V1_NAMES = [
    "RegistryError",
    "TarReadError",
    "ValidationError",
    "ImageConfig",
    "ImageInspect",
    "LayerInfo",
    "validate_docker_tar",
    "get_tar_manifest",
    "inspect_docker_tar",
    "extract_original_tags",
    "parse_repository_tag",
    "get_primary_tag",
    "check_registry_connectivity",
    "push_docker_tar",
    "push_docker_tar_with_original_tags",
    "push_docker_tar_with_all_original_tags",
    "list_repositories",
    "list_tags",
    "get_manifest",
    "get_image_info",
    "delete_image",
    "delete_image_by_digest",
    "RegistryConfig",
    "BlobInfo",
    "ManifestInfo",
]

REQUIRED = inspect.Parameter.empty
# 1.2.0's functions: (async?, [(parameter, default)]).
V1_FUNCTIONS: dict[str, tuple[bool, list[tuple[str, object]]]] = {
    "validate_docker_tar": (False, [("tar_path", REQUIRED)]),
    "get_tar_manifest": (False, [("tar_path", REQUIRED)]),
    "inspect_docker_tar": (False, [("tar_path", REQUIRED)]),
    "extract_original_tags": (False, [("tar_path", REQUIRED)]),
    "parse_repository_tag": (False, [("repo_tag", REQUIRED)]),
    "get_primary_tag": (False, [("tar_path", REQUIRED)]),
    "check_registry_connectivity": (True, [("registry_url", REQUIRED)]),
    "push_docker_tar": (
        True,
        [
            ("tar_path", REQUIRED),
            ("registry_url", REQUIRED),
            ("repository", None),
            ("tag", None),
            ("timeout", 300),
        ],
    ),
    "push_docker_tar_with_original_tags": (
        True,
        [("tar_path", REQUIRED), ("registry_url", REQUIRED), ("timeout", 300)],
    ),
    "push_docker_tar_with_all_original_tags": (
        True,
        [("tar_path", REQUIRED), ("registry_url", REQUIRED), ("timeout", 300)],
    ),
    "list_repositories": (True, [("registry_url", REQUIRED), ("timeout", 10)]),
    "list_tags": (True, [("registry_url", REQUIRED), ("repository", REQUIRED), ("timeout", 10)]),
    "get_manifest": (
        True,
        [("registry_url", REQUIRED), ("repository", REQUIRED), ("tag", REQUIRED), ("timeout", 10)],
    ),
    "get_image_info": (
        True,
        [("registry_url", REQUIRED), ("repository", REQUIRED), ("tag", REQUIRED), ("timeout", 10)],
    ),
    "delete_image": (
        True,
        [("registry_url", REQUIRED), ("repository", REQUIRED), ("tag", REQUIRED), ("timeout", 10)],
    ),
    "delete_image_by_digest": (
        True,
        [
            ("registry_url", REQUIRED),
            ("repository", REQUIRED),
            ("digest", REQUIRED),
            ("timeout", 10),
        ],
    ),
}

FACTORY = object()  # a default made fresh for every instance (an empty list or dict)
# 1.2.0's models: their fields in order, with defaults.
V1_MODELS: dict[str, list[tuple[str, object]]] = {
    "RegistryConfig": [("url", REQUIRED), ("timeout", 30)],
    "BlobInfo": [
        ("digest", REQUIRED),
        ("size", REQUIRED),
        ("media_type", "application/octet-stream"),
    ],
    "ManifestInfo": [
        ("schema_version", REQUIRED),
        ("media_type", REQUIRED),
        ("config", REQUIRED),
        ("layers", REQUIRED),
        ("digest", None),
    ],
    "ImageConfig": [
        ("architecture", REQUIRED),
        ("os", REQUIRED),
        ("created", REQUIRED),
        ("cmd", FACTORY),
        ("entrypoint", FACTORY),
        ("env", FACTORY),
        ("user", ""),
        ("working_dir", None),
        ("exposed_ports", FACTORY),
        ("labels", FACTORY),
        ("diff_ids", FACTORY),
    ],
    "LayerInfo": [
        ("digest", REQUIRED),
        ("size", REQUIRED),
        ("media_type", REQUIRED),
        ("created", None),
        ("created_by", None),
    ],
    "ImageInspect": [
        ("id", REQUIRED),
        ("repo_tags", FACTORY),
        ("repo_digests", FACTORY),
        ("parent", None),
        ("comment", ""),
        ("created", REQUIRED),
        ("config", REQUIRED),
        ("layers", FACTORY),
        ("size", 0),
        ("virtual_size", 0),
        ("architecture", REQUIRED),
        ("os", REQUIRED),
        ("author", ""),
        ("rootfs_type", "layers"),
        ("rootfs_layers", FACTORY),
    ],
}


def test_every_1x_name_is_exported() -> None:
    assert set(V1_NAMES) <= set(compat.__all__)
    assert set(V1_FUNCTIONS) | set(V1_MODELS) | {
        "RegistryError",
        "TarReadError",
        "ValidationError",
    } == set(V1_NAMES)
    for name in compat.__all__:
        assert hasattr(compat, name), name


def test_registry_async_names_stay_where_1x_used_none() -> None:
    for name in registry_async.__all__:
        if name not in V1_NAMES:
            assert name in compat.__all__, name
            assert getattr(compat, name) is getattr(registry_async, name), name


def test_the_error_classes_are_the_library_s_own() -> None:
    # 1.x's RegistryError was the root of its errors: here it is the root of the tree.
    assert compat.RegistryError is registry_async.RegistryProtoError
    assert issubclass(registry_async.RegistryError, compat.RegistryError)
    assert compat.TarReadError is registry_async.TarReadError
    assert compat.ValidationError is registry_async.ValidationError
    for error in (compat.TarReadError, compat.ValidationError, registry_async.TransportFailure):
        assert issubclass(error, compat.RegistryError)


SUBMODULES = {
    "exceptions": ["RegistryError", "TarReadError", "ValidationError"],
    "models": ["ImageConfig", "ImageInspect", "LayerInfo"],
    "core.types": ["BlobInfo", "ManifestInfo", "RegistryConfig"],
    "tar.tags": ["extract_original_tags", "get_primary_tag", "parse_repository_tag"],
    "utils": ["get_tar_manifest", "inspect_docker_tar", "validate_docker_tar"],
    "push": [
        "check_registry_connectivity",
        "push_docker_tar",
        "push_docker_tar_with_all_original_tags",
        "push_docker_tar_with_original_tags",
    ],
    "registry": [
        "delete_image",
        "delete_image_by_digest",
        "get_image_info",
        "get_manifest",
        "list_repositories",
        "list_tags",
    ],
}


@pytest.mark.parametrize("module", sorted(SUBMODULES))
def test_1x_submodules_hold_the_same_objects(module: str) -> None:
    imported = importlib.import_module(f"registry_api_v2_client.{module}")
    for name in SUBMODULES[module]:
        assert getattr(imported, name) is getattr(compat, name), f"{module}.{name}"


@pytest.mark.parametrize("name", sorted(V1_FUNCTIONS))
def test_every_1x_function_keeps_its_signature(name: str) -> None:
    is_async, expected = V1_FUNCTIONS[name]
    function = getattr(compat, name)
    assert inspect.iscoroutinefunction(function) is is_async
    parameters = list(inspect.signature(function).parameters.values())
    assert [(p.name, p.default) for p in parameters[: len(expected)]] == expected
    for extra in parameters[len(expected) :]:  # additions are optional keywords
        assert extra.default is not REQUIRED or extra.kind is extra.VAR_KEYWORD, extra


def test_every_function_takes_a_timeout() -> None:
    for name, (is_async, _) in V1_FUNCTIONS.items():
        if is_async:
            assert "timeout" in inspect.signature(getattr(compat, name)).parameters, name


@pytest.mark.parametrize("name", sorted(V1_MODELS))
def test_models_are_frozen_dataclasses_with_1x_fields(name: str) -> None:
    model = getattr(compat, name)
    assert dataclasses.is_dataclass(model)
    assert vars(model)["__dataclass_params__"].frozen
    found = []
    for field in dataclasses.fields(model):
        if field.default is not dataclasses.MISSING:
            found.append((field.name, field.default))
        elif field.default_factory is not dataclasses.MISSING:
            assert field.default_factory() in ([], {})
            found.append((field.name, FACTORY))
        else:
            found.append((field.name, REQUIRED))
    assert found == V1_MODELS[name]


def test_models_as_1x_code_builds_and_reads_them() -> None:
    config = compat.RegistryConfig(url="http://localhost:15000/", timeout=60)
    assert (config.base_url, config.timeout) == ("http://localhost:15000", 60)
    assert compat.RegistryConfig("http://r").timeout == 30
    blob = compat.BlobInfo(digest="sha256:abc123def4567890", size=1024)
    assert (blob.media_type, blob.digest_short) == ("application/octet-stream", "abc123def456")
    assert compat.BlobInfo("abcdefabcdefabcdef", 1).digest_short == "abcdefabcdef"
    layers = (compat.BlobInfo("sha256:1", 10), compat.BlobInfo("sha256:2", 20))
    manifest = compat.ManifestInfo(2, "application/vnd.oci.image.manifest.v1+json", blob, layers)
    assert (manifest.total_size, manifest.digest) == (1054, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.timeout = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        compat.LayerInfo("sha256:1", 1, "x")  # type: ignore[call-arg]  # keywords only, as 1.x


# -- parse_repository_tag --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nginx:alpine", ("nginx", "alpine")),
        ("myapp", ("myapp", "latest")),
        ("myapp:", ("myapp", "latest")),
        ("localhost:5000/app", ("localhost:5000/app", "latest")),
        ("localhost:5000/app:latest", ("localhost:5000/app", "latest")),
        ("localhost:5000/myapp:latest", ("localhost:5000/myapp", "latest")),
        ("registry.io:443/user/app:v1.0", ("registry.io:443/user/app", "v1.0")),
        ("registry.io/user/repo:v2.0", ("registry.io/user/repo", "v2.0")),
        ("test:minimal", ("test", "minimal")),
        ("app@sha256:" + "a" * 64, ("app", "sha256:" + "a" * 64)),
        ("app:v1@sha256:" + "a" * 64, ("app", "v1")),
    ],
)
def test_parse_repository_tag(text: str, expected: tuple[str, str]) -> None:
    assert compat.parse_repository_tag(text) == expected


# The reference grammar (distribution/reference, as `registry_proto` implements it).
_COMPONENT = st.from_regex(r"[a-z0-9]{1,5}(?:(?:\.|_|__|-{1,3})[a-z0-9]{1,5}){0,3}", fullmatch=True)
_PATHS = st.lists(_COMPONENT, min_size=1, max_size=4).map("/".join)
_DOMAINS = st.one_of(
    st.just(""),
    st.from_regex(r"localhost(:[0-9]{1,5})?", fullmatch=True),
    st.from_regex(r"[a-z0-9]{1,8}(\.[a-z0-9]{1,8}){1,3}(:[0-9]{1,5})?", fullmatch=True),
)
_TAGS = st.one_of(st.just(""), st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}", fullmatch=True))
_DIGESTS = st.one_of(
    st.just(""), st.from_regex(r"[a-f0-9]{64}", fullmatch=True).map(lambda h: f"sha256:{h}")
)


@given(_DOMAINS, _PATHS, _TAGS, _DIGESTS)
def test_parse_repository_tag_follows_the_reference_grammar(
    domain: str, path: str, tag: str, digest: str
) -> None:
    name = f"{domain}/{path}" if domain else path
    text = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    try:
        reference = parse_reference(text)
    except ValidationError:
        assume(False)  # longer than the grammar allows
        raise
    repository, parsed_tag = compat.parse_repository_tag(text)
    assert (repository, parsed_tag) == (name, tag or digest or "latest")
    # The repository part names the same image, untagged; the tag is the reference's.
    alone = parse_reference(repository)
    assert (alone.domain, alone.repository, alone.tag) == (
        reference.domain,
        reference.repository,
        None,
    )
    assert reference.tag == (tag or None)
    # And the two parts put back together parse to themselves.
    joined = f"{repository}@{parsed_tag}" if digest and not tag else f"{repository}:{parsed_tag}"
    assert compat.parse_repository_tag(joined) == (repository, parsed_tag)


@given(st.text(max_size=60))
def test_parse_repository_tag_takes_any_text(text: str) -> None:
    repository, tag = compat.parse_repository_tag(text)
    assert tag
    assert text.startswith(repository)


def test_1x_keyword_calls_bind() -> None:
    # Every call shape 1.x's README and docs show binds to the same parameters here.
    push = inspect.signature(compat.push_docker_tar)
    bound = push.bind("nginx.tar", "http://localhost:15000", repository="my-nginx", tag="v1.0")
    assert dict(bound.arguments) == {
        "tar_path": "nginx.tar",
        "registry_url": "http://localhost:15000",
        "repository": "my-nginx",
        "tag": "v1.0",
    }
    assert push.bind("app.tar", "http://r", "repo", "tag", timeout=600).arguments["timeout"] == 600
    connectivity = inspect.signature(compat.check_registry_connectivity)
    assert connectivity.bind("http://slow-registry.com", timeout=60).arguments["timeout"] == 60


def test_one_version_everywhere() -> None:
    # pyproject.toml, the installed metadata and `__version__` agree, and this is 2.x: the
    # major version after 1.x, whose API it keeps.
    with (Path(__file__).resolve().parents[2] / "pyproject.toml").open("rb") as file:
        declared = tomllib.load(file)["project"]["version"]
    assert compat.__version__ == declared == metadata.version("registry-api-v2-client")
    assert compat.__version__.split(".")[0] == "2"
