"""Resolve pinned jar sets (Apache Kafka + Kafka Connect; Elasticsearch) from Maven Central with Maven,
cached on disk.

The first call for a jar set writes a small ``pom.xml`` under ``.cache/kafka-harness/<folder>/`` and runs
``mvn dependency:build-classpath`` with a local repository inside that folder; the resulting classpath
file is the cache marker, so later calls start no Maven and download nothing.
"""
from __future__ import annotations

import dataclasses
import fcntl
import os
import pathlib
import shutil
import subprocess

KAFKA_VERSION = "4.3.1"  # newest Kafka whose artifacts are all on Maven Central (4.4.0 lacks connect-file)
LOG4J_VERSION = "2.25.2"  # log4j2 backend for Kafka's slf4j 1.7 API (Kafka 4.x logs through log4j2)
SCALA_SUFFIX = "2.13"
ELASTICSEARCH_VERSION = "8.19.20"  # the stack's Elasticsearch (StackConfig.elasticsearch_image)
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.9.0"

ROOT = pathlib.Path(__file__).resolve().parents[2]
CACHE_DIR = ROOT / ".cache" / "kafka-harness"


@dataclasses.dataclass(frozen=True)
class JarSet:
    """What to resolve: ``artifacts`` are (groupId, artifactId, version, exclusions as groupId:artifactId)."""

    label: str  # for messages, e.g. "Kafka 4.3.1"
    folder: str  # cache sub-folder
    artifacts: tuple[tuple[str, str, str, tuple[str, ...]], ...]


KAFKA = JarSet(f"Kafka {KAFKA_VERSION}", KAFKA_VERSION, (
    ("org.apache.kafka", f"kafka_{SCALA_SUFFIX}", KAFKA_VERSION, ()),
    # connect-runtime declares test helpers with runtime scope; the worker does not need them
    ("org.apache.kafka", "connect-runtime", KAFKA_VERSION,
     ("org.apache.kafka:kafka-test-common-runtime", "org.junit.jupiter:junit-jupiter")),
    ("org.apache.kafka", "connect-json", KAFKA_VERSION, ()),
    ("org.apache.kafka", "connect-file", KAFKA_VERSION, ()),
    ("org.apache.kafka", "connect-mirror", KAFKA_VERSION, ()),
    ("org.apache.logging.log4j", "log4j-slf4j-impl", LOG4J_VERSION, ()),
    ("org.apache.logging.log4j", "log4j-core", LOG4J_VERSION, ()),
))

# The server, its HTTP transport (a plugin) and the test framework whose MockNode starts a node in-process.
ELASTICSEARCH = JarSet(f"Elasticsearch {ELASTICSEARCH_VERSION}", f"elasticsearch-{ELASTICSEARCH_VERSION}", (
    ("org.elasticsearch", "elasticsearch", ELASTICSEARCH_VERSION, ()),
    ("org.elasticsearch.plugin", "transport-netty4", ELASTICSEARCH_VERSION, ()),
    ("org.elasticsearch.test", "framework", ELASTICSEARCH_VERSION, ()),
))


class ResolutionError(Exception):
    """Maven could not resolve the jars; the message has Maven's output and what to check."""


def _pom(jars: JarSet) -> str:
    deps = []
    for group, artifact, version, exclusions in jars.artifacts:
        excl = "".join(
            "<exclusion><groupId>{}</groupId><artifactId>{}</artifactId></exclusion>".format(*e.split(":"))
            for e in exclusions)
        deps.append(f"<dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
                    f"<version>{version}</version>"
                    + (f"<exclusions>{excl}</exclusions>" if excl else "") + "</dependency>")
    artifact_id = "kafka-harness" if jars is KAFKA else f"{jars.folder}-harness"
    return ("<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n<modelVersion>4.0.0</modelVersion>\n"
            f"<groupId>clickstream-iac</groupId><artifactId>{artifact_id}</artifactId>"
            "<version>1</version><packaging>pom</packaging>\n<dependencies>\n"
            + "\n".join(deps) + "\n</dependencies>\n</project>\n")


def cached_classpath(cache_dir: pathlib.Path = CACHE_DIR, jars: JarSet = KAFKA) -> list[str] | None:
    """The cached jar paths when a previous resolution of the same pom left them all on disk, else None."""
    folder = cache_dir / jars.folder
    classpath_file, pom_file = folder / "classpath.txt", folder / "pom.xml"
    if not (classpath_file.exists() and pom_file.exists() and pom_file.read_text() == _pom(jars)):
        return None
    classpath = classpath_file.read_text().strip().split(":")
    return classpath if all(pathlib.Path(jar).exists() for jar in classpath) else None


def resolve_classpath(cache_dir: pathlib.Path = CACHE_DIR, *, jars: JarSet = KAFKA,
                      timeout: float = 900) -> list[str]:
    """Return the jar paths of ``jars`` (default: the Kafka broker + Connect worker), resolving them once.

    A file lock serializes concurrent pytest sessions; the second one finds the cache filled.
    """
    cached = cached_classpath(cache_dir, jars)
    if cached is not None:
        return cached
    folder = cache_dir / jars.folder
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cached = cached_classpath(cache_dir, jars)
        return cached if cached is not None else _resolve(jars, folder, timeout)


def _resolve(jars: JarSet, folder: pathlib.Path, timeout: float) -> list[str]:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ResolutionError("Maven ('mvn') is not installed: install it (e.g. 'apt-get install maven') "
                              f"to fetch {jars.label} from Maven Central")
    classpath_file, pom_file = folder / "classpath.txt", folder / "pom.xml"
    pom_file.write_text(_pom(jars))
    partial = folder / f"classpath.txt.{os.getpid()}"
    command = [mvn, "-B", "-q", "-f", str(pom_file), f"-Dmaven.repo.local={folder / 'repository'}",
               f"{DEPENDENCY_PLUGIN}:build-classpath", f"-Dmdep.outputFile={partial}",
               "-Dmdep.includeScope=runtime"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ResolutionError(f"Maven did not resolve {jars.label} within {timeout:g} s; "
                              "check access to https://repo.maven.apache.org") from None
    if result.returncode != 0 or not partial.exists():
        output = (result.stdout + result.stderr).strip()[-3000:]
        raise ResolutionError(f"Maven failed to resolve {jars.label} (exit {result.returncode}); "
                              f"check access to https://repo.maven.apache.org. Output:\n{output}")
    partial.replace(classpath_file)
    return classpath_file.read_text().strip().split(":")
