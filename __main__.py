"""securecart-data: read and validate config, build the data tier, export what drills need."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.data_tier import DataTier, DataTierArgs
from components.settings import CONFIG_KEYS, Settings, load_settings, parse_config_value


def read_settings() -> Settings:
    """The one place that reads ``pulumi.Config``; bad values stop here, before any resource."""
    config = pulumi.Config()
    raw = {}
    for key in sorted(CONFIG_KEYS):
        text = config.get(key)
        if text is not None:
            raw[key] = parse_config_value(key, text)
    return load_settings(raw)


settings = read_settings()
# One explicit provider carries the cost-allocation tags to every taggable resource. Its region
# is the anchor region (the lexically smaller of the pair) so a failover's swap of
# primaryRegion/secondaryRegion never changes the provider; every resource sets its own region.
provider = aws.Provider(
    "aws",
    region=settings.anchor_region,
    default_tags=aws.ProviderDefaultTagsArgs(tags=settings.base_tags),
)
tier = DataTier(
    "securecart-data",
    DataTierArgs(settings=settings),
    pulumi.ResourceOptions(providers={"aws": provider}),
)
for name, value in tier.outputs.items():
    pulumi.export(name, value)
