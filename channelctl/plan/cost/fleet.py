"""The fleet's monthly traffic, from the iot stack's usage figures: pure arithmetic, each constant
cited or marked assumed (and then shown in the plan's cost limits)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from components.config.usage import UsageConfig

# AWS's month for hourly prices: 730 hours (AWS Pricing Calculator, "Assumptions": "730 hours in a
# month"; https://docs.aws.amazon.com/pricing-calculator/latest/userguide/).
HOURS_PER_MONTH = 730
MINUTES_PER_MONTH = HOURS_PER_MONTH * 60
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
# AWS bills data by the GB of 2**30 bytes (Amazon S3 pricing FAQ, "GB-month ... 1 GB = 2^30 bytes").
GB = 2**30
# IoT Core meters MQTT messages in 5 KB increments (IoT Core pricing, "Messaging":
# https://aws.amazon.com/iot-core/pricing/).
IOT_MESSAGE_STEP_BYTES = 5 * 1024
# Keep-alive over an IoT Core VPC endpoint is at most 230 s (IoT Core developer guide,
# "AWS IoT Core with interface VPC endpoints", limitations): a device pings at least that often.
KEEPALIVE_SECONDS = 230
# Assumed, not measured: bytes each MQTT packet adds on the wire beyond its payload and topic
# (TLS 1.3 record header and tag 22, TCP and IPv4 headers 40, MQTT fixed header and packet id 8).
WIRE_OVERHEAD_BYTES = 70
# Assumed (docs/costs.md): flow-log records each device's session produces per aggregation
# interval in the gatekeeper VPC (NLB, proxy and endpoint ENIs, both directions), their size in the
# default format, and the default 600 s interval (VPC user guide, "Flow log records").
FLOW_RECORDS_PER_DEVICE = 6
FLOW_RECORD_BYTES = 130
FLOW_INTERVAL_SECONDS = 600
# Assumed: bytes of one Route 53 Resolver query-log record (JSON, one per query).
QUERY_LOG_RECORD_BYTES = 400
# Assumed: SUBSCRIBE packets a device sends after each CONNECT (one, for its own command topics).
SUBSCRIBES_PER_CONNECT = 1

ASSUMPTIONS = (
    f"each MQTT packet adds {WIRE_OVERHEAD_BYTES} bytes on the wire (TLS, TCP/IP, MQTT headers; assumed)",
    f"devices ping every {KEEPALIVE_SECONDS} s, the most an IoT Core VPC endpoint allows",
    f"flow logs: {FLOW_RECORDS_PER_DEVICE} records of {FLOW_RECORD_BYTES} bytes per device per "
    f"{FLOW_INTERVAL_SECONDS} s in the gatekeeper VPC (assumed)",
    f"Resolver query logs: {QUERY_LOG_RECORD_BYTES} bytes per query (assumed)",
    f"devices send {SUBSCRIBES_PER_CONNECT} SUBSCRIBE after each CONNECT (assumed)",
    "each publish to a device is an application's, metered coming in as well as going out (assumed)",
)


@dataclass(frozen=True)
class Fleet:
    """What the devices do in a month, derived from the iot stack's ``usage``."""

    devices: int
    usage: UsageConfig
    # Sessions each device opens a month: the authorizer ends one every disconnectAfterSeconds.
    connects_per_device: float = 0.0
    # Consumer stacks the iot stack serves (the default of usage.deliveriesPerMessage).
    consumers: int = 0

    @property
    def deliveries_per_message(self) -> float:
        given = self.usage.deliveries_per_message
        return float(self.consumers) if given is None else given

    @property
    def deliveries(self) -> float:
        """Device publishes delivered to the consumers' subscribed applications."""
        return self.uplink_messages * self.deliveries_per_message

    @property
    def uplink_messages(self) -> float:
        return self.devices * self.usage.messages_per_device_per_minute * MINUTES_PER_MONTH

    @property
    def downlink_messages(self) -> float:
        return self.devices * self.usage.messages_to_devices_per_device_per_minute * MINUTES_PER_MONTH

    @property
    def connects(self) -> float:
        return self.devices * self.connects_per_device

    @property
    def metered_messages(self) -> float:
        """Messages IoT Core bills (IoT Core pricing, "Additional metering details"), each PUBLISH in 5 KB
        steps: a device's publish in, and out again to each subscribed consumer application; an
        application's publish to a device in, and out to the device; a client's PUBACK of a QoS 1
        delivery as one message (an MQTT 3.1.1 PUBACK "is metered as a single 5 KB message");
        CONNECT and SUBSCRIBE, metered by size, one step each. PINGREQ/PINGRESP, CONNACK, SUBACK and
        the broker's own PUBACKs are not metered."""
        steps = max(1, math.ceil(self.usage.message_bytes / IOT_MESSAGE_STEP_BYTES))
        publishes = (self.uplink_messages + self.deliveries + 2 * self.downlink_messages) * steps
        pubacks = (self.downlink_messages * self.usage.messages_to_devices_qos
                   + self.deliveries * self.usage.consumer_qos)
        sessions = self.connects * (1 + SUBSCRIBES_PER_CONNECT)
        return publishes + pubacks + sessions

    @property
    def consumers_gb(self) -> float:
        """The consumers' applications' traffic: the deliveries and their publishes to devices (none
        without consumers or deliveries: the publishes to devices then come from elsewhere)."""
        if not (self.consumers or self.deliveries):
            return 0.0
        return self._applications_gb

    @property
    def _applications_gb(self) -> float:
        size = self.usage.message_bytes + WIRE_OVERHEAD_BYTES
        return (self.deliveries + self.downlink_messages) * size / GB

    def consumer_gb(self) -> float:
        """One consumer's share of it, through its endpoint."""
        return self._applications_gb / max(self.consumers, 1)

    @property
    def connection_minutes(self) -> float:
        return self.devices * MINUTES_PER_MONTH

    @property
    def pings(self) -> float:
        return self.devices * SECONDS_PER_MONTH / KEEPALIVE_SECONDS

    @property
    def uplink_gb(self) -> float:
        """Devices to AWS: publishes, pings."""
        size = self.usage.message_bytes + WIRE_OVERHEAD_BYTES
        return (self.uplink_messages * size + self.pings * WIRE_OVERHEAD_BYTES) / GB

    @property
    def downlink_gb(self) -> float:
        """AWS to devices: publishes, the acknowledgement of each uplink publish, ping responses."""
        size = self.usage.message_bytes + WIRE_OVERHEAD_BYTES
        return (self.downlink_messages * size + (self.uplink_messages + self.pings) * WIRE_OVERHEAD_BYTES) / GB

    def dns_queries(self, per_device_per_hour: float) -> float:
        """Queries through the Resolver inbound endpoint (the network stack's usage figure)."""
        return self.devices * per_device_per_hour * HOURS_PER_MONTH

    @property
    def flow_log_gb(self) -> float:
        intervals = SECONDS_PER_MONTH / FLOW_INTERVAL_SECONDS
        return self.devices * FLOW_RECORDS_PER_DEVICE * FLOW_RECORD_BYTES * intervals / GB
