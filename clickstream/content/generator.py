"""What the datagen connectors generate: the custom Avro schemas (``schema.string``) of the clicks and the
users, and the value pools they draw from (the reference model draws from the same pools).

kafka-connect-datagen 0.7 generates records with confluentinc/avro-random-generator, which draws each
field independently; its ``arg.properties`` annotations are ``options`` (pick one of a list, also for a
whole ``record``), ``iteration``, ``range``, ``length``, ``regex``, ``prefix``/``suffix``, ``odds``,
``keys``, ``position``. Nothing ties two fields together, and the quickstart's ``session`` hints are read
only by ksql-datagen. So the fields that must agree come from ONE generated value: a click's
``visitor`` is a record chosen from :data:`VISITORS` (user id + the IP that user always uses), and a
user is a whole record chosen from :data:`USERS` (name, city, ... fixed per id, so ``WEB_USERS`` holds
exactly these users and never grows). The other click fields keep the ``clickstream`` quickstart's pools.
"""
from __future__ import annotations

import dataclasses
from typing import Any

REQUESTS = ("GET /index.html HTTP/1.1", "GET /site/user_status.html HTTP/1.1", "GET /site/login.html HTTP/1.1",
            "GET /site/user_status.html HTTP/1.1", "GET /images/track.png HTTP/1.1",
            "GET /images/logo-small.png HTTP/1.1")
STATUSES = (200, 302, 404, 405, 406, 407)
BYTES = (278, 1289, 2048, 4096, 4006, 4196, 14096)
AGENTS = ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/59.0.3071.115 Safari/537.36")
CITIES = ("Palo Alto", "San Francisco", "Raleigh", "London", "Frankfurt", "New York")
FIRST_NAMES = ("Elwyn", "Curran", "Hanson", "Woodrow", "Ferd", "Reeva", "Antonio", "Arlyne", "Dimitri",
               "Oriana", "Abdel", "Greta")
LAST_NAMES = ("Vanyard", "Vears", "Garrity", "Trice", "Tomini", "Jushcke", "De Banke", "Pask", "Rockhill",
              "Romagosa", "Adicot", "Lalonde")
LEVELS = ("Gold", "Silver", "Platinum")
REGISTERED_FROM_MS = 1_407_645_330_000  # the quickstart's registered_at range, beyond the int range
REGISTERED_UNTIL_MS = 1_502_339_792_000  # (so the generator reads it as the Avro long it is)
REGISTERED_USERS = 40
ANONYMOUS_USERID = -1  # a visitor that never registered: no WEB_USERS row, shown as 'unknown'


@dataclasses.dataclass(frozen=True)
class User:
    user_id: int
    username: str
    first_name: str
    last_name: str
    city: str
    level: str
    registered_at: int


@dataclasses.dataclass(frozen=True)
class Visitor:
    """Who clicks: a user id and the one IP address that user clicks from."""

    userid: int
    ip: str


def _user(user_id: int) -> User:
    first, last = FIRST_NAMES[user_id % len(FIRST_NAMES)], LAST_NAMES[(user_id * 5) % len(LAST_NAMES)]
    span = REGISTERED_UNTIL_MS - REGISTERED_FROM_MS
    return User(user_id=user_id, username=f"{first}{last.replace(' ', '')}_{user_id}", first_name=first,
                last_name=last, city=CITIES[user_id % len(CITIES)], level=LEVELS[user_id % len(LEVELS)],
                registered_at=REGISTERED_FROM_MS + span * user_id // (REGISTERED_USERS + 1))


def _ip(index: int) -> str:
    prefix = ("111", "222", "122", "233")[index % 4]
    return f"{prefix}.{(index * 37) % 256}.{(index * 91) % 256}.{index + 10}"


USERS = tuple(_user(user_id) for user_id in range(1, REGISTERED_USERS + 1))
VISITORS = tuple(Visitor(userid=u.user_id, ip=_ip(u.user_id)) for u in USERS) + (
    Visitor(userid=ANONYMOUS_USERID, ip=_ip(0)),)


def _options(avro_type: str, values: tuple) -> dict[str, Any]:
    return {"type": avro_type, "arg.properties": {"options": [str(v) for v in values]}}


def clickstream_schema() -> dict[str, Any]:
    """The clicks: the quickstart's fields, with ``userid`` and ``ip`` drawn together as ``visitor``."""
    visitor = {"type": "record", "name": "visitor", "fields": [{"name": "userid", "type": "int"},
                                                                {"name": "ip", "type": "string"}],
               "arg.properties": {"options": [dataclasses.asdict(v) for v in VISITORS]}}
    iteration = {"iteration": {"start": 1, "step": 10}}
    return {"namespace": "clickstream", "name": "events", "type": "record", "fields": [
        {"name": "visitor", "type": visitor},
        {"name": "remote_user", "type": _options("string", ("-",))},
        {"name": "time", "type": {"type": "string", "arg.properties": iteration}},
        {"name": "_time", "type": {"type": "long", "arg.properties": iteration}},
        {"name": "request", "type": _options("string", REQUESTS)},
        {"name": "status", "type": _options("string", STATUSES)},
        {"name": "bytes", "type": _options("string", BYTES)},
        {"name": "referrer", "type": _options("string", ("-",))},
        {"name": "agent", "type": _options("string", AGENTS)},
    ]}


def users_schema() -> dict[str, Any]:
    """The users: a whole record chosen from :data:`USERS` each time (fields as in the quickstart)."""
    fields = [("user_id", "int"), ("username", "string"), ("registered_at", "long"), ("first_name", "string"),
              ("last_name", "string"), ("city", "string"), ("level", "string")]
    return {"namespace": "clickstream", "name": "users", "type": "record",
            "fields": [{"name": name, "type": avro_type} for name, avro_type in fields],
            "arg.properties": {"options": [dataclasses.asdict(u) for u in USERS]}}

# the clickstream_codes quickstart's records (code -> definition)
CODES = {200: "Successful", 302: "Redirect", 404: "Page not found", 405: "Method not allowed",
         406: "Not acceptable", 407: "Proxy authentication required"}
