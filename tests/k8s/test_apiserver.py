"""The Kubernetes API emulator driven by the real kubectl 1.35 (and raw HTTP
where kubectl has no verb, as client-go does it): discovery, built-ins,
CRDs with CEL rules, printer columns, server-side apply, status and scale
subresources, kubectl wait, watch resume / bookmarks / 410, finalizers and
garbage collection."""
import json
import os
import threading
import time

import pytest

from emulator import TESTDATA

CRD = os.path.join(TESTDATA, 'samplecluster-crd.yaml')
SC = '/apis/samples.emulator.test/v1alpha1/namespaces/default/sampleclusters'


def cr(name, **spec):
    body = {'replicas': 3, 'zones': [{'name': 'a', 'nodes': 1}]}
    body.update(spec)
    return json.dumps({'apiVersion': 'samples.emulator.test/v1alpha1', 'kind': 'SampleCluster',
                       'metadata': {'name': name}, 'spec': body})


@pytest.fixture(scope='module')
def crd(emu):
    emu.kubectl('apply', '-f', CRD)
    emu.kubectl('wait', '--for=condition=Established', 'crd/sampleclusters.samples.emulator.test', '--timeout=10s')
    return emu


def test_unauthenticated_requests_get_401(emu):
    code, body, _ = emu.request('GET', '/api/v1/namespaces', token='wrong')
    assert code == 401 and body['kind'] == 'Status' and body['reason'] == 'Unauthorized'
    code, body, _ = emu.request('GET', '/version')
    assert code == 200 and body['major'] == '1'


def test_builtins_apply_get_describe_delete(emu):
    manifest = '''
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, labels: {tier: web}}
data: {key: one}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: s3, port: 3900}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  replicas: 2
  serviceName: web
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: garage, image: "garage:1", ports: [{containerPort: 3900}]}]
'''
    out = emu.kubectl('apply', '-f', '-', input=manifest).stdout
    assert 'configmap/cfg created' in out and 'statefulset.apps/web created' in out
    # a second apply with a change goes through kubectl's strategic merge patch
    out = emu.kubectl('apply', '-f', '-', input=manifest.replace('key: one', 'key: two')
                      .replace('garage:1', 'garage:2')).stdout
    assert 'configmap/cfg configured' in out and 'service/web unchanged' in out
    cm = json.loads(emu.kubectl('get', 'configmap', 'cfg', '-o', 'json').stdout)
    assert cm['data'] == {'key': 'two'} and cm['metadata']['uid'] and 'generation' not in cm['metadata']
    sts = json.loads(emu.kubectl('get', 'sts', 'web', '-o', 'json').stdout)
    assert sts['spec']['template']['spec']['containers'][0]['image'] == 'garage:2'
    assert sts['metadata']['generation'] == 2
    svc = json.loads(emu.kubectl('get', 'svc', 'web', '-o', 'json').stdout)
    port = svc['spec']['ports'][0]
    assert svc['spec']['clusterIP'] and 30000 <= port['nodePort'] <= 32767 and port['targetPort'] == 3900
    table = emu.kubectl('get', 'svc,sts,cm', '-l', 'tier in (web),!missing').stdout
    assert 'configmap/cfg' in table and 'sts' not in table
    table = emu.kubectl('get', 'svc').stdout.splitlines()
    assert table[0].split()[:4] == ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP'] and 'NodePort' in table[1]
    assert 'garage:2' in emu.kubectl('describe', 'sts', 'web').stdout
    out = emu.kubectl('scale', 'sts', 'web', '--replicas=3').stdout
    assert 'scaled' in out
    assert emu.kubectl('get', 'sts', 'web', '-o', 'jsonpath={.spec.replicas}').stdout == '3'
    emu.kubectl('delete', 'configmap', 'cfg')
    r = emu.kubectl('get', 'configmap', 'cfg', check=False)
    assert r.returncode != 0 and 'configmaps "cfg" not found' in r.stderr
    assert 'kube-system' in emu.kubectl('get', 'namespaces').stdout


def test_create_twice_and_stale_update(emu):
    emu.kubectl('create', 'configmap', 'once', '--from-literal=a=1')
    r = emu.kubectl('create', 'configmap', 'once', '--from-literal=a=1', check=False)
    assert r.returncode != 0 and 'configmaps "once" already exists' in r.stderr
    r = emu.kubectl('create', '-f', '-', input='{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"once"}}',
                    check=False)
    assert 'Error from server (AlreadyExists)' in r.stderr
    code, cm, _ = emu.request('GET', '/api/v1/namespaces/default/configmaps/once')
    stale = dict(cm, data={'a': '2'})
    code, cm2, _ = emu.request('PUT', '/api/v1/namespaces/default/configmaps/once', stale)
    assert code == 200 and int(cm2['metadata']['resourceVersion']) > int(cm['metadata']['resourceVersion'])
    code, st, _ = emu.request('PUT', '/api/v1/namespaces/default/configmaps/once', dict(cm, data={'a': '3'}))
    assert code == 409 and st['reason'] == 'Conflict' and 'the object has been modified' in st['message']
    code, st, _ = emu.request('POST', '/api/v1/namespaces/nowhere/configmaps',
                              {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'x'}})
    assert code == 404 and st['message'] == 'namespaces "nowhere" not found'


def test_crd_discovery_and_cel_rules_refuse_bad_resources(crd):
    assert 'sampleclusters' in crd.kubectl('api-resources', '--api-group=samples.emulator.test').stdout
    r = crd.kubectl('apply', '-f', '-', input=cr('bad', zones=[{'name': 'a', 'nodes': 5}]), check=False)
    assert r.returncode != 0
    assert 'a zone cannot have more nodes than the cluster has replicas' in r.stderr
    assert 'The SampleCluster "bad" is invalid' in r.stderr
    r = crd.kubectl('apply', '-f', '-', input=cr('bad', replicas=0, mode='Sometimes', adminToken='short',
                                                 zones=[{'name': 'Upper'}]), check=False)
    assert r.returncode != 0
    for want in ('spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1',
                 'spec.mode: Unsupported value: "Sometimes": supported values: "Auto", "Manual"',
                 'adminToken must be at least 8 characters', "spec.zones[0].name in body should match"):
        assert want in r.stderr, r.stderr
    r = crd.kubectl('apply', '-f', '-', input=cr('bad', zones=[]), check=False)
    assert 'spec.zones in body should have at least 1 items' in r.stderr
    # unknown fields: refused under kubectl's strict validation, pruned otherwise
    r = crd.kubectl('apply', '-f', '-', input=cr('pruned', bogus=1), check=False)
    assert 'unknown field "spec.bogus"' in r.stderr
    crd.kubectl('apply', '--validate=false', '-f', '-', input=cr('pruned', bogus=1))
    obj = json.loads(crd.kubectl('get', 'smc', 'pruned', '-o', 'json').stdout)
    assert 'bogus' not in obj['spec']
    # defaults from the schema, also inside list items
    assert obj['spec']['mode'] == 'Auto' and obj['spec']['replicationFactor'] == 3
    assert obj['spec']['zones'][0]['nodes'] == 1


def test_transition_rules_guard_immutable_fields(crd):
    crd.kubectl('apply', '-f', '-', input=cr('immut', replicationFactor=2,
                                             zones=[{'name': 'a', 'storageClass': 'fast'}]))
    r = crd.kubectl('patch', 'smc', 'immut', '--type=merge', '-p', '{"spec":{"replicationFactor":3}}', check=False)
    assert r.returncode != 0 and 'replicationFactor is immutable' in r.stderr
    r = crd.kubectl('apply', '-f', '-', input=cr('immut', replicationFactor=2,
                                                 zones=[{'name': 'a', 'storageClass': 'slow'}]), check=False)
    assert r.returncode != 0 and "spec.zones[0].storageClass: Invalid value: \"string\": a zone's storageClass is immutable" in r.stderr
    # the same transition rules do not stop other changes
    crd.kubectl('patch', 'smc', 'immut', '--type=merge', '-p', '{"spec":{"replicas":4}}')
    assert crd.kubectl('get', 'smc', 'immut', '-o', 'jsonpath={.spec.replicas}').stdout == '4'


def test_printer_columns_and_short_names(crd):
    crd.kubectl('apply', '-f', '-', input=cr('cols', replicas=5, mode='Manual'))
    lines = crd.kubectl('get', 'smc', 'cols').stdout.splitlines()
    assert lines[0].split() == ['NAME', 'REPLICAS', 'MODE', 'READY', 'AGE']
    cells = lines[1].split()
    assert cells[:3] == ['cols', '5', 'Manual'] and cells[-1].endswith('s')
    assert 'cols' in crd.kubectl('get', 'samples').stdout  # category
    assert 'cols' in crd.kubectl('get', 'sampleclusters.samples.emulator.test', '-A').stdout
    explain = crd.kubectl('explain', 'smc.spec.zones', check=False)
    assert explain.returncode == 0 and 'storageClass' in explain.stdout


def test_server_side_apply_field_managers_and_conflicts(crd):
    def doc(**data):
        return json.dumps({'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'ssa'}, 'data': data})
    out = crd.kubectl('apply', '--server-side', '--field-manager=alice', '-f', '-', input=doc(a='1', b='2')).stdout
    assert 'serverside-applied' in out
    r = crd.kubectl('apply', '--server-side', '--field-manager=bob', '-f', '-', input=doc(a='9', c='3'), check=False)
    assert r.returncode != 0
    assert 'Apply failed with 1 conflict: conflict with "alice" using v1: .data.a' in r.stderr
    # the same value is shared ownership, not a conflict
    crd.kubectl('apply', '--server-side', '--field-manager=bob', '-f', '-', input=doc(b='2', c='3'))
    crd.kubectl('apply', '--server-side', '--field-manager=bob', '--force-conflicts', '-f', '-',
                input=doc(a='9', b='2', c='3'))
    cm = json.loads(crd.kubectl('get', 'cm', 'ssa', '-o', 'json', '--show-managed-fields').stdout)
    assert cm['data'] == {'a': '9', 'b': '2', 'c': '3'}
    owners = {m['manager']: m for m in cm['metadata']['managedFields']}
    assert owners['alice']['operation'] == 'Apply' and owners['alice']['fieldsV1'] == {'f:data': {'f:b': {}}}
    assert set(owners['bob']['fieldsV1']['f:data']) == {'f:a', 'f:b', 'f:c'}
    # a manager that stops applying a field it alone owns removes it; shared fields stay
    crd.kubectl('apply', '--server-side', '--field-manager=bob', '-f', '-', input=doc(a='9'))
    cm = json.loads(crd.kubectl('get', 'cm', 'ssa', '-o', 'json').stdout)
    assert cm['data'] == {'a': '9', 'b': '2'}
    # raw apply as a controller does it: apply-patch+yaml with fieldManager, creating when absent
    body = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: applied\nstringData:\n  token: abc\n'
    code, obj, _ = crd.request('PATCH', '/api/v1/namespaces/default/secrets/applied?fieldManager=op&force=true',
                               body.encode(), 'application/apply-patch+yaml')
    assert code == 201 or code == 200, obj
    assert obj['data'] == {'token': 'YWJj'}
    code, st, _ = crd.request('PATCH', '/api/v1/namespaces/default/secrets/applied', body.encode(),
                              'application/apply-patch+yaml')
    assert code == 400 and 'fieldManager is required' in st['message']


def test_status_subresource_and_kubectl_wait(crd):
    crd.kubectl('apply', '-f', '-', input=cr('ready'))
    code, obj, _ = crd.request('GET', SC + '/ready')
    gen = obj['metadata']['generation']

    def set_ready():
        time.sleep(1.0)
        crd.request('PATCH', SC + '/ready/status', {'status': {'replicas': 3, 'observedGeneration': gen,
                                                               'conditions': [{'type': 'Ready', 'status': 'True',
                                                                               'reason': 'Up', 'message': 'ok'}]}},
                    'application/merge-patch+json')
    t = threading.Thread(target=set_ready)
    t.start()
    r = crd.kubectl('wait', '--for=condition=Ready', 'smc/ready', '--timeout=20s')
    t.join()
    assert 'condition met' in r.stdout
    code, obj, _ = crd.request('GET', SC + '/ready')
    assert obj['status']['replicas'] == 3 and obj['metadata']['generation'] == gen  # status writes keep generation
    assert crd.kubectl('get', 'smc', 'ready', '--no-headers').stdout.split()[3] == 'True'
    # the main resource ignores status; /status ignores spec
    code, obj, _ = crd.request('PATCH', SC + '/ready', {'status': {'replicas': 99}, 'spec': {'replicas': 4}},
                               'application/merge-patch+json')
    assert code == 200 and obj['status']['replicas'] == 3 and obj['spec']['replicas'] == 4
    assert obj['metadata']['generation'] == gen + 1
    code, obj, _ = crd.request('PUT', SC + '/ready/status', dict(obj, spec=dict(obj['spec'], replicas=1),
                                                                 status=dict(obj['status'], replicas=4)))
    assert code == 200 and obj['spec']['replicas'] == 4 and obj['status']['replicas'] == 4
    code, st, _ = crd.request('PATCH', SC + '/ready/status', {'status': {'conditions': [{'type': 'X', 'status': 'Maybe'}]}},
                              'application/merge-patch+json')
    assert code == 422 and 'supported values: "True", "False", "Unknown"' in st['message']
    # server-side apply on /status, as the operator does
    body = json.dumps({'apiVersion': 'samples.emulator.test/v1alpha1', 'kind': 'SampleCluster',
                       'metadata': {'name': 'ready'}, 'status': {'replicas': 2}})
    code, obj, _ = crd.request('PATCH', SC + '/ready/status?fieldManager=op&force=true', body.encode(),
                               'application/apply-patch+yaml')
    assert code == 200 and obj['status']['replicas'] == 2 and obj['spec']['replicas'] == 4
    assert any(m['manager'] == 'op' and m.get('subresource') == 'status' for m in obj['metadata']['managedFields'])


def test_scale_subresource(crd):
    crd.kubectl('apply', '-f', '-', input=cr('scaled'))
    crd.request('PATCH', SC + '/scaled/status', {'status': {'replicas': 3, 'selector': 'app=scaled'}},
                'application/merge-patch+json')
    assert 'scaled' in crd.kubectl('scale', 'smc', 'scaled', '--replicas=6').stdout
    code, obj, _ = crd.request('GET', SC + '/scaled')
    assert obj['spec']['replicas'] == 6 and obj['metadata']['generation'] == 2
    code, scale, _ = crd.request('GET', SC + '/scaled/scale')
    assert scale['kind'] == 'Scale' and scale['spec']['replicas'] == 6
    assert scale['status'] == {'replicas': 3, 'selector': 'app=scaled'}
    r = crd.kubectl('scale', 'smc', 'scaled', '--replicas=10', check=False)
    assert r.returncode != 0 and 'should be less than or equal to 9' in r.stderr
    r = crd.kubectl('scale', 'smc', 'scaled', '--replicas=5', '--current-replicas=2', check=False)
    assert r.returncode != 0


def _events(resp, n, deadline=10):
    out = []
    end = time.time() + deadline
    while len(out) < n and time.time() < end:
        line = resp.readline()
        if not line:
            break
        out.append(json.loads(line))
    return out


def test_watch_resume_bookmarks_and_410(emu):
    base = '/api/v1/namespaces/default/configmaps'
    code, lst, _ = emu.request('GET', base + '?labelSelector=w%3D1')
    rv0 = lst['metadata']['resourceVersion']
    for i in range(3):
        emu.request('POST', base, {'apiVersion': 'v1', 'kind': 'ConfigMap',
                                   'metadata': {'name': 'w%d' % i, 'labels': {'w': '1'}}})
    emu.request('PATCH', base + '/w1', {'metadata': {'labels': {'w': '2'}}}, 'application/merge-patch+json')
    emu.request('DELETE', base + '/w2')
    # resume from the list's resourceVersion: everything since, in order
    resp = emu.watch(base + '?watch=true&labelSelector=w%3D1&allowWatchBookmarks=true&resourceVersion=' + rv0)
    evs = _events(resp, 6)
    kinds = [(e['type'], e['object']['metadata'].get('name')) for e in evs if e['type'] != 'BOOKMARK']
    assert kinds[:5] == [('ADDED', 'w0'), ('ADDED', 'w1'), ('ADDED', 'w2'), ('DELETED', 'w1'), ('DELETED', 'w2')]
    rvs = [int(e['object']['metadata']['resourceVersion']) for e in evs if e['type'] != 'BOOKMARK']
    assert rvs == sorted(rvs)
    # bookmarks carry the current resourceVersion and nothing else
    bm = next(e for e in _events(resp, 3) if e['type'] == 'BOOKMARK')
    assert int(bm['object']['metadata']['resourceVersion']) >= rvs[-1] and bm['object']['kind'] == 'ConfigMap'
    resp.close()
    # sendInitialEvents (client-go's WatchList): ADDED for what exists, then the end bookmark
    resp = emu.watch(base + '?watch=true&labelSelector=w%3D1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan'
                     '&allowWatchBookmarks=true')
    evs = _events(resp, 2)
    assert evs[0]['type'] == 'ADDED' and evs[0]['object']['metadata']['name'] == 'w0'
    assert evs[1]['type'] == 'BOOKMARK'
    assert evs[1]['object']['metadata']['annotations'] == {'k8s.io/initial-events-end': 'true'}
    resp.close()
    # the history is bounded (--watch-history 40): an old resourceVersion is gone
    for i in range(45):
        emu.request('POST', base, {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'flood%d' % i}})
    resp = emu.watch(base + '?watch=true&resourceVersion=' + rv0)
    evs = _events(resp, 1)
    resp.close()
    assert evs[0]['type'] == 'ERROR'
    st = evs[0]['object']
    assert st['code'] == 410 and st['reason'] == 'Expired' and 'too old resource version' in st['message']
    # a timeoutSeconds watch ends cleanly
    code, lst, _ = emu.request('GET', base)
    resp = emu.watch(base + '?watch=true&timeoutSeconds=1&resourceVersion=' + lst['metadata']['resourceVersion'])
    t0 = time.time()
    assert resp.read() == b'' and time.time() - t0 < 5


def test_finalizers_keep_the_object_until_removed(emu):
    base = '/api/v1/namespaces/default/configmaps'
    emu.request('POST', base, {'apiVersion': 'v1', 'kind': 'ConfigMap',
                               'metadata': {'name': 'fin', 'finalizers': ['example.com/cleanup']}})
    emu.kubectl('delete', 'configmap', 'fin', '--wait=false')
    code, obj, _ = emu.request('GET', base + '/fin')
    assert code == 200 and obj['metadata']['deletionTimestamp']
    code, st, _ = emu.request('PATCH', base + '/fin', {'metadata': {'finalizers': ['example.com/cleanup', 'new/one']}},
                              'application/merge-patch+json')
    assert code == 422 and 'no new finalizers can be added if the object is being deleted' in st['message']
    code, obj, _ = emu.request('PATCH', base + '/fin', {'metadata': {'finalizers': None}}, 'application/merge-patch+json')
    assert code == 200
    code, st, _ = emu.request('GET', base + '/fin')
    assert code == 404 and st['reason'] == 'NotFound'


def test_owner_references_are_garbage_collected(crd):
    crd.kubectl('apply', '-f', '-', input=cr('owner'))
    code, owner, _ = crd.request('GET', SC + '/owner')
    ref = {'apiVersion': 'samples.emulator.test/v1alpha1', 'kind': 'SampleCluster', 'name': 'owner',
           'uid': owner['metadata']['uid'], 'controller': True, 'blockOwnerDeletion': True}
    for n in ('dep1', 'dep2'):
        crd.request('POST', '/api/v1/namespaces/default/configmaps',
                    {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': n, 'ownerReferences': [ref]}})
    crd.kubectl('delete', 'smc', 'owner')
    for n in ('dep1', 'dep2'):
        code, _, _ = crd.request('GET', '/api/v1/namespaces/default/configmaps/' + n)
        assert code == 404
    # orphan: dependents stay, without the owner reference
    crd.kubectl('apply', '-f', '-', input=cr('owner2'))
    code, owner, _ = crd.request('GET', SC + '/owner2')
    ref['name'], ref['uid'] = 'owner2', owner['metadata']['uid']
    crd.request('POST', '/api/v1/namespaces/default/configmaps',
                {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'dep3', 'ownerReferences': [ref]}})
    crd.kubectl('delete', 'smc', 'owner2', '--cascade=orphan')
    code, dep, _ = crd.request('GET', '/api/v1/namespaces/default/configmaps/dep3')
    assert code == 200 and 'ownerReferences' not in dep['metadata']
    code, _, _ = crd.request('GET', SC + '/owner2')
    assert code == 404


def test_leases_events_and_namespaces(emu):
    lease = {'apiVersion': 'coordination.k8s.io/v1', 'kind': 'Lease', 'metadata': {'name': 'leader'},
             'spec': {'holderIdentity': 'a', 'leaseDurationSeconds': 15}}
    code, obj, _ = emu.request('POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases', lease)
    assert code == 201
    stale = dict(obj, spec={'holderIdentity': 'b', 'leaseDurationSeconds': 15})
    code, renewed, _ = emu.request('PUT', '/apis/coordination.k8s.io/v1/namespaces/default/leases/leader',
                                   dict(obj, spec={'holderIdentity': 'a', 'leaseDurationSeconds': 15,
                                                   'renewTime': '2026-01-01T00:00:01.000000Z'}))
    assert code == 200 and renewed['metadata']['resourceVersion'] != obj['metadata']['resourceVersion']
    code, st, _ = emu.request('PUT', '/apis/coordination.k8s.io/v1/namespaces/default/leases/leader', stale)
    assert code == 409
    ev = {'apiVersion': 'events.k8s.io/v1', 'kind': 'Event', 'metadata': {'name': 'ev1'},
          'eventTime': '2026-01-01T00:00:00.000000Z', 'reportingController': 'garage-operator',
          'reportingInstance': 'op-1', 'action': 'Reconcile', 'reason': 'LayoutApplied', 'type': 'Normal',
          'note': 'layout version 2 applied', 'regarding': {'kind': 'SampleCluster', 'name': 'x', 'namespace': 'default'}}
    code, obj, _ = emu.request('POST', '/apis/events.k8s.io/v1/namespaces/default/events', ev)
    assert code == 201 and obj['note'] == 'layout version 2 applied'
    out = emu.kubectl('get', 'events').stdout
    assert 'LayoutApplied' in out and 'layout version 2 applied' in out
    emu.kubectl('create', 'namespace', 'gone')
    emu.kubectl('create', 'configmap', 'inside', '-n', 'gone')
    emu.kubectl('delete', 'namespace', 'gone', '--timeout=20s')
    r = emu.kubectl('get', 'configmap', 'inside', '-n', 'gone', check=False)
    assert r.returncode != 0


def test_discovery_documents_and_kept_alive_connections(crd):
    code, rl, _ = crd.request('GET', '/apis/samples.emulator.test/v1alpha1')
    names = {r['name']: r for r in rl['resources']}
    assert names['sampleclusters']['shortNames'] == ['smc'] and names['sampleclusters']['categories'] == ['samples']
    assert names['sampleclusters/scale']['kind'] == 'Scale' and 'sampleclusters/status' in names
    code, groups, _ = crd.request('GET', '/apis')
    assert {'name': 'apps', 'versions': [{'groupVersion': 'apps/v1', 'version': 'v1'}],
            'preferredVersion': {'groupVersion': 'apps/v1', 'version': 'v1'}} in groups['groups']
    # an error answered before the body was looked at leaves the connection usable
    import http.client
    host, port = crd.server[len('https://'):].rsplit(':', 1)
    conn = http.client.HTTPSConnection(host, int(port), context=crd.ctx)
    hdr = {'Authorization': 'Bearer ' + crd.token, 'Content-Type': 'application/json'}
    conn.request('POST', '/api/v1/namespaces/default/nothings', body=b'{"kind":"X"}' * 100, headers=hdr)
    r = conn.getresponse()
    assert r.status == 404 and json.loads(r.read())['reason'] == 'NotFound'
    conn.request('GET', '/api/v1/namespaces/default', headers=hdr)
    r = conn.getresponse()
    assert r.status == 200 and json.loads(r.read())['metadata']['name'] == 'default'
    conn.close()


def test_helm_install_upgrade_uninstall(emu, tmp_path):
    helm = os.path.join(os.path.dirname(emu.kubectl_bin), 'helm')
    chart = tmp_path / 'chart'
    (chart / 'templates').mkdir(parents=True)
    (chart / 'Chart.yaml').write_text('apiVersion: v2\nname: tiny\nversion: 0.1.0\n')
    (chart / 'templates' / 'cm.yaml').write_text(
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cfg\n'
        'data:\n  greeting: {{ .Values.greeting | default "hi" | quote }}\n')
    env = dict(os.environ, HELM_CACHE_HOME=str(tmp_path / 'c'), HELM_CONFIG_HOME=str(tmp_path / 'g'),
               HELM_DATA_HOME=str(tmp_path / 'd'), KUBECONFIG=emu.kubeconfig)
    import subprocess

    def run(*args):
        r = subprocess.run([helm] + list(args), env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout
    assert 'STATUS: deployed' in run('install', 'rel', str(chart), '--wait', '--timeout', '20s')
    run('upgrade', 'rel', str(chart), '--set', 'greeting=hello')
    assert emu.kubectl('get', 'cm', 'rel-cfg', '-o', 'jsonpath={.data.greeting}').stdout == 'hello'
    assert 'rel' in run('list')
    run('uninstall', 'rel')
    assert emu.kubectl('get', 'cm', 'rel-cfg', check=False).returncode != 0


def test_two_sites_are_independent(emu, tmp_path):
    from emulator import Emulator
    other = Emulator(str(tmp_path), name='site-b', token='other-token')
    try:
        assert other.server != emu.server
        other.kubectl('create', 'configmap', 'only-in-b')
        assert emu.kubectl('get', 'configmap', 'only-in-b', check=False).returncode != 0
        code, _, _ = other.request('GET', '/api/v1/namespaces', token=emu.token)
        assert code == 401
        # each site has its own CA: site A's CA does not verify site B
        import ssl
        import urllib.request
        req = urllib.request.Request(other.server + '/version')
        with pytest.raises(Exception):
            urllib.request.urlopen(req, context=ssl.create_default_context(cafile=emu.ca), timeout=5)
    finally:
        other.stop()
