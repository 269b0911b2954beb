"""The StatefulSet controller of the kubelet stand-in (kubelet.py), after
kube-controller-manager's: pods <sts>-0..N-1 from the template, PVCs from the
volumeClaimTemplates, OrderedReady or Parallel pod management, scale down from
the highest ordinal, RollingUpdate one pod at a time from the highest ordinal
down to the partition (or OnDelete), and the status (replicas, readyReplicas,
currentReplicas, updatedReplicas, availableReplicas, revisions,
observedGeneration). Level-triggered: sync() looks at the caches and does the
next step; it is called again on every change.

Revisions are kept in this process (there are no ControllerRevision objects):
a pod recreated below the partition gets the template of the current
revision if this process has seen it, else the update revision's."""
import copy
import hashlib
import json
import re

from kubeclient import ApiError, resource_path

APPS = '/apis/apps/v1'
CORE = '/api/v1'
POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name'
REVISION_LABEL = 'controller-revision-hash'
INDEX_LABEL = 'apps.kubernetes.io/pod-index'


def revision_name(sts):
    tmpl = sts['spec'].get('template') or {}
    h = hashlib.sha256(json.dumps(tmpl, sort_keys=True, separators=(',', ':')).encode()).hexdigest()
    # the alphabet of Kubernetes' SafeEncodeString: no vowels, no look-alikes
    alphabet = 'bcdfghjklmnpqrstvwxz2456789'
    n = int(h[:16], 16)
    out = ''
    for _ in range(10):
        n, r = divmod(n, len(alphabet))
        out += alphabet[r]
    return '%s-%s' % (sts['metadata']['name'], out)


def ordinal_of(sts_name, pod_name):
    m = re.fullmatch(re.escape(sts_name) + r'-(\d+)', pod_name)
    return int(m.group(1)) if m else None


def is_terminating(pod):
    return bool(pod['metadata'].get('deletionTimestamp'))


def is_failed(pod):
    return (pod.get('status') or {}).get('phase') in ('Failed', 'Succeeded')


def is_running_and_ready(pod):
    st = pod.get('status') or {}
    return st.get('phase') == 'Running' and not is_terminating(pod) and any(
        c.get('type') == 'Ready' and c.get('status') == 'True' for c in st.get('conditions') or [])


def owned_by(obj, uid):
    return any(r.get('uid') == uid and r.get('controller') for r in obj['metadata'].get('ownerReferences') or [])


def claim_name(tmpl, sts_name, ordinal):
    return '%s-%s-%d' % (tmpl['metadata']['name'], sts_name, ordinal)


class StatefulSetController:
    def __init__(self, api, statefulsets, pods, pvcs, log, event=None):
        self.api = api
        self.event = event or (lambda obj, type_, reason, message, component: None)
        self.sts, self.pods, self.pvcs = statefulsets, pods, pvcs
        self.log = log
        self.templates = {}  # revision name -> pod template (revisions seen by this process)

    def sync_all(self):
        for sts in self.sts.list():
            try:
                self.sync(sts)
            except ApiError as e:
                # conflicts and races with other writers: the next sync sees the new state
                if e.code not in (404, 409):
                    self.log('statefulset %s/%s: %s' % (sts['metadata'].get('namespace'), sts['metadata']['name'], e))

    # --- one StatefulSet --------------------------------------------------------------------

    def sync(self, sts):
        md, spec = sts['metadata'], sts['spec']
        if md.get('deletionTimestamp'):
            return
        ns, name, uid = md['namespace'], md['name'], md['uid']
        update_rev = revision_name(sts)
        self.templates.setdefault(update_rev, copy.deepcopy(spec.get('template') or {}))
        current_rev = (sts.get('status') or {}).get('currentRevision') or update_rev
        replicas = int(spec.get('replicas', 1))
        strategy = spec.get('updateStrategy') or {}
        rolling = strategy.get('type', 'RollingUpdate') == 'RollingUpdate'
        partition = int(((strategy.get('rollingUpdate') or {}).get('partition')) or 0) if rolling else 0
        monotonic = spec.get('podManagementPolicy', 'OrderedReady') != 'Parallel'

        owned = [p for p in self.pods.list(ns) if owned_by(p, uid)]
        slots = [None] * replicas
        condemned = []
        for p in owned:
            o = ordinal_of(name, p['metadata']['name'])
            if o is None:
                continue
            if o < replicas:
                slots[o] = p
            else:
                condemned.append((o, p))
        condemned.sort(key=lambda x: -x[0])
        self.update_status(sts, owned, current_rev, update_rev, replicas)

        # 1. every ordinal below replicas has a running and ready pod
        for i in range(replicas):
            pod = slots[i]
            if pod is not None and is_failed(pod) and not is_terminating(pod):
                self.delete_pod(pod, 'failed', sts)
                if monotonic:
                    return
                continue
            if pod is None:
                rev = update_rev if (not rolling or i >= partition) else current_rev
                self.create_pod(sts, i, rev if rev in self.templates else update_rev)
                if monotonic:
                    return
                continue
            if monotonic and (is_terminating(pod) or not is_running_and_ready(pod)):
                return
        # 2. scale down, highest ordinal first
        for o, pod in condemned:
            if is_terminating(pod):
                if monotonic:
                    return
                continue
            if monotonic and any(p is None or not is_running_and_ready(p) for p in slots):
                return
            self.retain_or_release_claims(sts, pod, o)
            self.delete_pod(pod, 'scale down', sts)
            if monotonic:
                return
        # 3. rolling update: one pod at a time, from the highest ordinal down to the partition
        if not rolling:
            return
        for i in range(replicas - 1, partition - 1, -1):
            pod = slots[i]
            if pod is None:
                return
            if pod['metadata'].get('labels', {}).get(REVISION_LABEL) != update_rev and not is_terminating(pod):
                self.delete_pod(pod, 'update to revision ' + update_rev, sts)
                return
            if not is_running_and_ready(pod):
                return

    def create_pod(self, sts, ordinal, rev):
        ns, name = sts['metadata']['namespace'], sts['metadata']['name']
        for tmpl in sts['spec'].get('volumeClaimTemplates') or []:
            self.ensure_claim(sts, tmpl, ordinal)
        tmpl = copy.deepcopy(self.templates[rev])
        pod_name = '%s-%d' % (name, ordinal)
        tmd = tmpl.get('metadata') or {}
        labels = dict(tmd.get('labels') or {})
        labels.update({POD_NAME_LABEL: pod_name, REVISION_LABEL: rev, INDEX_LABEL: str(ordinal)})
        pod_spec = tmpl.get('spec') or {}
        pod_spec['hostname'] = pod_name
        if sts['spec'].get('serviceName'):
            pod_spec['subdomain'] = sts['spec']['serviceName']
        vols = [v for v in pod_spec.get('volumes') or []]
        for ct in sts['spec'].get('volumeClaimTemplates') or []:
            vols = [v for v in vols if v.get('name') != ct['metadata']['name']]
            vols.append({'name': ct['metadata']['name'],
                         'persistentVolumeClaim': {'claimName': claim_name(ct, name, ordinal)}})
        if vols:
            pod_spec['volumes'] = vols
        pod = {'apiVersion': 'v1', 'kind': 'Pod',
               'metadata': {'name': pod_name, 'namespace': ns, 'labels': labels,
                            'ownerReferences': [{'apiVersion': 'apps/v1', 'kind': 'StatefulSet', 'name': name,
                                                 'uid': sts['metadata']['uid'], 'controller': True,
                                                 'blockOwnerDeletion': True}]},
               'spec': pod_spec}
        if tmd.get('annotations'):
            pod['metadata']['annotations'] = dict(tmd['annotations'])
        try:
            created = self.api.create(resource_path(CORE, 'pods', ns), pod)
        except ApiError as e:
            if e.code == 409:
                return  # a pod of that name still exists (terminating, or not ours)
            raise
        self.pods.upsert(created)
        self.log('statefulset %s/%s: created pod %s (revision %s)' % (ns, name, pod_name, rev))
        self.event(sts, 'Normal', 'SuccessfulCreate', 'create Pod %s in StatefulSet %s successful' % (pod_name, name),
                   'statefulset-controller')

    def ensure_claim(self, sts, tmpl, ordinal):
        ns, name = sts['metadata']['namespace'], sts['metadata']['name']
        cname = claim_name(tmpl, name, ordinal)
        if self.pvcs.get(ns, cname) is not None:
            return
        pvc = {'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim',
               'metadata': {'name': cname, 'namespace': ns,
                            'labels': dict(((sts['spec'].get('selector') or {}).get('matchLabels')) or {}),
                            'annotations': dict((tmpl['metadata'].get('annotations')) or {})},
               'spec': copy.deepcopy(tmpl.get('spec') or {})}
        pvc['metadata']['labels'].update(tmpl['metadata'].get('labels') or {})
        policy = sts['spec'].get('persistentVolumeClaimRetentionPolicy') or {}
        if policy.get('whenDeleted') == 'Delete':
            pvc['metadata']['ownerReferences'] = [{'apiVersion': 'apps/v1', 'kind': 'StatefulSet', 'name': name,
                                                   'uid': sts['metadata']['uid'], 'blockOwnerDeletion': True}]
        try:
            self.pvcs.upsert(self.api.create(resource_path(CORE, 'persistentvolumeclaims', ns), pvc))
            self.log('statefulset %s/%s: created claim %s' % (ns, name, cname))
            self.event(sts, 'Normal', 'SuccessfulCreate', 'create Claim %s Pod %s-%d in StatefulSet %s success' % (
                cname, name, ordinal, name), 'statefulset-controller')
        except ApiError as e:
            if e.code != 409:
                raise

    def retain_or_release_claims(self, sts, pod, ordinal):
        """whenScaled: Delete makes the condemned pod own its claims, so they go with it."""
        policy = sts['spec'].get('persistentVolumeClaimRetentionPolicy') or {}
        if policy.get('whenScaled') != 'Delete':
            return
        ns = sts['metadata']['namespace']
        for tmpl in sts['spec'].get('volumeClaimTemplates') or []:
            pvc = self.pvcs.get(ns, claim_name(tmpl, sts['metadata']['name'], ordinal))
            if pvc is None:
                continue
            refs = pvc['metadata'].get('ownerReferences') or []
            if any(r.get('uid') == pod['metadata']['uid'] for r in refs):
                continue
            refs = [r for r in refs if r.get('uid') != sts['metadata']['uid']]
            refs.append({'apiVersion': 'v1', 'kind': 'Pod', 'name': pod['metadata']['name'],
                         'uid': pod['metadata']['uid']})
            self.pvcs.upsert(self.api.patch(resource_path(CORE, 'persistentvolumeclaims', ns, pvc['metadata']['name']),
                                            {'metadata': {'ownerReferences': refs}}))

    def delete_pod(self, pod, why, sts=None):
        md = pod['metadata']
        try:
            o = self.api.delete(resource_path(CORE, 'pods', md['namespace'], md['name']), uid=md['uid'])
            if o and o.get('kind') == 'Pod' and o['metadata'].get('deletionTimestamp'):
                self.pods.upsert(o)
            else:
                self.pods.remove(pod)
        except ApiError as e:
            if e.code not in (404, 409):
                raise
        self.log('statefulset: deleting pod %s/%s (%s)' % (md['namespace'], md['name'], why))
        if sts is not None:
            self.event(sts, 'Normal', 'SuccessfulDelete', 'delete Pod %s in StatefulSet %s successful' % (
                md['name'], sts['metadata']['name']), 'statefulset-controller')

    def update_status(self, sts, owned, current_rev, update_rev, replicas):
        st = {'replicas': 0, 'readyReplicas': 0, 'availableReplicas': 0, 'currentReplicas': 0, 'updatedReplicas': 0}
        for p in owned:
            st['replicas'] += 1
            if is_running_and_ready(p):
                st['readyReplicas'] += 1
                st['availableReplicas'] += 1
            if not is_terminating(p):
                rev = p['metadata'].get('labels', {}).get(REVISION_LABEL)
                if rev == current_rev:
                    st['currentReplicas'] += 1
                if rev == update_rev:
                    st['updatedReplicas'] += 1
        rolling = (sts['spec'].get('updateStrategy') or {}).get('type', 'RollingUpdate') == 'RollingUpdate'
        if current_rev != update_rev and (not rolling or (st['updatedReplicas'] == replicas and
                                                          st['readyReplicas'] == replicas and
                                                          st['replicas'] == replicas)):
            current_rev = update_rev
            st['currentReplicas'] = st['updatedReplicas']
        st.update({'currentRevision': current_rev, 'updateRevision': update_rev,
                   'observedGeneration': sts['metadata'].get('generation', 1), 'collisionCount': 0,
                   'availableReplicas': st['availableReplicas']})
        old = sts.get('status') or {}
        if all(old.get(k) == v for k, v in st.items()):
            return
        md = sts['metadata']
        new = self.api.patch(resource_path(APPS, 'statefulsets', md['namespace'], md['name'], 'status'), {'status': st})
        self.sts.upsert(new)
