"""The stack program: config -> infrastructure components -> application layer -> outputs."""
import pulumi

from clickstream.stack.analytics import declare_analytics
from components import deploy_operators, deploy_services
from stackconfig import load_stack_config

cfg, secrets = load_stack_config()
if cfg.role == "operators":
    deploy_operators(cfg)  # the cluster's shared Strimzi and ECK: no pipeline, no outputs
else:
    services = deploy_services(cfg, secrets)
    analytics = declare_analytics(cfg, secrets, services)

    pulumi.export("grafanaUrl", services.grafana.admin_url)
    pulumi.export("ksqldbUrl", services.ksqldb.admin_url)
    pulumi.export("connectUrl", services.connect.admin_url)
    pulumi.export("elasticsearchUrl", services.elasticsearch.admin_url)
    pulumi.export("kafkaBootstrap", services.kafka.admin_url)
    pulumi.export("dashboardUrls", analytics.dashboard_urls)
    if services.port_forward_commands:
        pulumi.export("portForwardCommands", list(services.port_forward_commands))
