"""Independent checks of socfed's exports, run by the test suite as a process.

    check_export.py misp FILE   MISP core format: the JSON schema PyMISP ships (schema.json),
                                every attribute's type and category in PyMISP's describeTypes,
                                and the event loaded by PyMISP's MISPEvent.
    check_export.py ocsf FILE   OCSF 1.3.0 Incident Finding (class 2005): the JSON Schema that
                                ocsf-json-schema generates from the OCSF 1.3.0 schema it ships,
                                checked with jsonschema (Draft 2020-12, formats checked).

STIX bundles are checked by the OASIS validator's own command, stix2_validator.
Exit 0 when valid; 1 with one line per problem otherwise.
"""

import json
import os
import sys


def misp(doc):
    import jsonschema
    import pymisp

    data = os.path.join(os.path.dirname(pymisp.__file__), "data")
    with open(os.path.join(data, "schema.json")) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in cls(schema).iter_errors(doc)]
    with open(os.path.join(data, "describeTypes.json")) as f:
        types = json.load(f)["result"]
    for n, a in enumerate(doc.get("Event", {}).get("Attribute", [])):
        allowed = types["category_type_mappings"].get(a.get("category"), [])
        if a.get("type") not in allowed:
            problems.append(f"Attribute[{n}]: type {a.get('type')!r} not in category {a.get('category')!r}")
    event = pymisp.MISPEvent()
    event.from_dict(**doc["Event"])
    if len(event.attributes) != len(doc["Event"].get("Attribute", [])):
        problems.append("PyMISP did not load every attribute")
    return problems


def ocsf(doc):
    import jsonschema
    from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

    schemas = OcsfJsonSchemaEmbedded(get_ocsf_schema(version="1.3.0"))
    schema = schemas.get_class_schema(class_name=schemas.lookup_class_name_from_uid(2005), profiles=[])
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    if doc.get("class_uid") != 2005 or doc.get("category_uid") != 2:
        problems.append("not class 2005 in category 2")
    return problems


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("misp", "ocsf"):
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[2], encoding="utf-8") as f:
        doc = json.load(f)
    problems = {"misp": misp, "ocsf": ocsf}[sys.argv[1]](doc)
    for p in problems:
        print(p)
    if not problems:
        print(f"{sys.argv[1]}: valid")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
