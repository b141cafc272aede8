"""Bad input: an unplaceable pod is reported (not dropped); unknown regions and missing prices are named."""

from __future__ import annotations

import pytest

from tools.cost.catalog import CatalogError, PriceCatalog
from tools.cost.plan import plan_nodes
from verifiers.cost import Offering, PlanProblem, Workload, validate_plan


def test_pod_larger_than_any_instance_is_reported_unplaceable() -> None:
    small = Offering(instance_type="s", cpu_m=2000, memory_mib=4096, usd_per_hour=0.1)
    giant = Workload(name="ml/Deployment/trainer", replicas=2, cpu_m=64000, memory_mib=1024)
    web = Workload(name="ml/Deployment/web", replicas=3, cpu_m=500, memory_mib=512)
    problem = PlanProblem(workloads=[giant, web], offerings=[small])
    plan = plan_nodes(problem)
    assert plan.unplaceable == {giant.name: 2}
    assert sum(n.pods.get(web.name, 0) for n in plan.nodes) == 3
    assert validate_plan(problem, plan).ok


def test_unknown_region_names_the_region_and_suggests_known_ones() -> None:
    with pytest.raises(CatalogError, match=r"unknown region 'us-east-9' for aws; e\.g\. us-east-1"):
        PriceCatalog("aws", "us-east-9")
    with pytest.raises(CatalogError, match="unknown cloud 'oracle'"):
        PriceCatalog("oracle", "x")


def test_missing_price_is_an_error_naming_type_and_region() -> None:
    catalog = PriceCatalog("azure", "eastus")
    with pytest.raises(CatalogError, match=r"no spot price for Standard_D4s_v5 in azure/eastus"):
        catalog.quote("Standard_D4s_v5", "spot")
    with pytest.raises(CatalogError, match=r"unknown instance type 'm9z\.huge'"):
        PriceCatalog().quote("m9z.huge")
