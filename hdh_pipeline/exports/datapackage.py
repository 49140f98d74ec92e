"""A Frictionless Data Package per source, from the published catalogue: resources, fields, types,
descriptions, keys, and the published statistics as constraints (bounds, lengths, code lists).

The data themselves are not public: each resource's `path` names where an authorised user finds the
table (`restricted/<table>.csv`), and the package says so in its description."""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

from hdh_pipeline.catalogue.codes import code_lists
from hdh_pipeline.schema import CODES
from hdh_pipeline.vocabulary import table_schema_type


def resource_name(table: str) -> str:
    """A Frictionless resource name (lower-case letters, digits, `-._`) for any table name."""
    plain = unicodedata.normalize("NFKD", table).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9._-]+", "_", plain).strip("_") or "table"


def _field(v: dict, codes: dict[str, int]) -> dict:
    """`codes`: code list -> its number of codes."""
    kind = table_schema_type(v["observed_type"])
    field = {"name": v["variable"], "type": kind}
    if v["description"]:
        field["description"] = v["description"]
    constraints: dict = {}
    if kind in ("integer", "number") and v["min"] is not None and v["max"] is not None:
        # published bounds are the k-th smallest and largest values: fewer than k rows lie beyond
        field["bounds"] = {"lower": float(v["min"]), "upper": float(v["max"]), "coarsened": True}
    if kind == "string" and v["max_length"] is not None:
        constraints["maxLength"] = int(v["max_length"])
    if v["nomenclature"] and v["nomenclature"] in codes and codes[v["nomenclature"]] <= 1000:
        field["nomenclature"] = v["nomenclature"]
    if v["missing_count"] == 0:
        constraints["required"] = True
    if v["is_unique"]:
        constraints["unique"] = True
    if constraints:
        field["constraints"] = constraints
    stats = {name: v[name] for name in ("count", "missing_count", "completeness_pct", "distinct_count", "mean", "std",
                                        "median") if v[name] is not None}
    if stats:
        field["statistics"] = stats
    return field


def data_package(public: dict[str, list[dict]], source_id: str) -> dict:
    """The source's datapackage.json descriptor."""
    [database] = [d for d in public["databases"] if d["source_id"] == source_id]
    variables = defaultdict(list)
    for v in public["variables"]:
        if v["source_id"] == source_id:
            variables[v["table_name"]].append(v)
    codes = {c.name: len(c) for c in code_lists(public.get(CODES), source_id)}
    relations = defaultdict(list)
    for r in public["relations"]:
        if r["source_id"] == source_id and r["kind"] == "table":
            relations[r["table_name"]].append(r)
    resources = []
    for t in sorted((t for t in public["tables"] if t["source_id"] == source_id), key=lambda t: t["table_name"]):
        schema: dict = {"fields": [_field(v, codes) for v in sorted(variables[t["table_name"]],
                                                                     key=lambda v: v["position"])]}
        names = {f["name"] for f in schema["fields"]}
        if t["primary_key"] and set(t["primary_key"].split(", ")) <= names:
            schema["primaryKey"] = t["primary_key"].split(", ")
        keys = [{"fields": r["columns"].split(", "), "reference": {"resource": r["referenced_table"],
                                                                    "fields": r["referenced_columns"].split(", ")}}
                for r in relations[t["table_name"]]
                if r["referenced_columns"] and set(r["columns"].split(", ")) <= names]
        if keys:
            schema["foreignKeys"] = keys
        resource = {"name": resource_name(t["table_name"]), "title": t["title"] or t["table_name"],
                    "path": f"restricted/{t['table_name']}.csv", "format": "csv", "schema": schema}
        if t["description"]:
            resource["description"] = t["description"]
        if t["row_count"] is not None:
            resource["stats"] = {"rows": t["row_count"]}
        resources.append(resource)
    for resource in resources:  # foreign keys name resources by their (lower-case) names
        for key in resource["schema"].get("foreignKeys", []):
            key["reference"]["resource"] = resource_name(key["reference"]["resource"])
    known = {r["name"] for r in resources}
    for resource in resources:
        resource["schema"]["foreignKeys"] = [k for k in resource["schema"].get("foreignKeys", [])
                                             if k["reference"]["resource"] in known]
        if not resource["schema"]["foreignKeys"]:
            del resource["schema"]["foreignKeys"]
    return {
        "name": source_id.replace("_", "-"), "title": database["title"],
        "description": (database["description"] or "") + " The data are not public: this package describes "
                       "them (statistics under disclosure control); authorised users find them at each path.",
        "licenses": [{"name": database["licence"], "title": database["licence"]}] if database["licence"] else [],
        "contributors": [{"title": database["producer"], "role": "publisher"}] if database["producer"] else [],
        "resources": resources,
    }
