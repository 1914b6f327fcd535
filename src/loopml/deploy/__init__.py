"""Progressive delivery: deployment specs (champion, canary, shadow), the split, comparisons."""

from loopml.deploy.compare import RouteComparison, compare_routes
from loopml.deploy.router import canary_share, route_for
from loopml.deploy.spec import CanarySpec, DeploymentSpec, ShadowSpec

__all__ = [
    "CanarySpec",
    "DeploymentSpec",
    "RouteComparison",
    "ShadowSpec",
    "canary_share",
    "compare_routes",
    "route_for",
]
