"""Kafka Connect: ``ConnectClient`` (REST client) and the ``Connector`` dynamic resource."""
from providers.connect.client import ConnectClient, ConnectorFailed, PluginNotInstalled
from providers.connect.connector import Connector, ConnectorError, ConnectorProvider

__all__ = ["ConnectClient", "Connector", "ConnectorError", "ConnectorFailed", "ConnectorProvider", "PluginNotInstalled"]
