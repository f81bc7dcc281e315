"""Fills a freshly provisioned Samba AD database with the demo directory.

Run with Debian's python3 (which has Samba's bindings) while samba is stopped:
    python3 samba_seed.py SMB_CONF SAM_LDB < directory.json
"""
import json
import sys

import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB

# 2020-01-01T00:00:00Z as a Windows FILETIME (100 ns ticks since 1601).
PAST_FILETIME = "132223104000000000"
# One minute, in AD's negative 100 ns intervals.
ONE_MINUTE = str(-60 * 10_000_000)

smb_conf, sam_ldb = sys.argv[1], sys.argv[2]
spec = json.load(sys.stdin)

lp = LoadParm()
lp.load(smb_conf)
db = SamDB(url=sam_ldb, session_info=system_session(), lp=lp)
domain_dn = db.domain_dn()

# Lock an account after 5 bad passwords for a minute, like a typical domain policy.
policy = ldb.Message(ldb.Dn(db, domain_dn))
for attr, value in [
    ("lockoutThreshold", "5"),
    ("lockoutDuration", ONE_MINUTE),
    ("lockOutObservationWindow", ONE_MINUTE),
]:
    policy[attr] = ldb.MessageElement(value, ldb.FLAG_MOD_REPLACE, attr)
db.modify(policy)

db.newuser(spec["service_account"], spec["service_password"])

for name, _parents in spec["groups"]:
    db.newgroup(name)
for name, parents in spec["groups"]:
    for parent in parents:
        db.add_remove_group_members(parent, [name], add_members_operation=True)

realm = spec["upn_suffix"]
for person in spec["people"]:
    given, _, surname = person["display_name"].partition(" ")
    db.newuser(
        person["username"],
        person["password"],
        givenname=given,
        surname=surname,
        mailaddress=f'{person["username"]}@{realm}',
        force_password_change_at_next_login_req=person["must_change_password"],
    )
    for group in person["groups"]:
        db.add_remove_group_members(group, [person["username"]], add_members_operation=True)
    if person["disabled"]:
        db.disable_account(f'(sAMAccountName={person["username"]})')
    if person["expired"]:
        res = db.search(base=domain_dn, expression=f'(sAMAccountName={person["username"]})', attrs=[])
        msg = ldb.Message(res[0].dn)
        msg["accountExpires"] = ldb.MessageElement(PAST_FILETIME, ldb.FLAG_MOD_REPLACE, "accountExpires")
        db.modify(msg)
