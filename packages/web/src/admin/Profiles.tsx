/**
 * Configuration profiles: the list with each profile's per-status device counts, create and edit of
 * every kind (Wi-Fi; VPN as WireGuard or OpenVPN; certificate as the tenant root, an uploaded PEM
 * root or a client certificate; restrictions; custom payloads), the assignments editor, and delete.
 * The form checks what `ConfigurationProfileInputSchema` checks; the server's answer is shown at the
 * field it names. Secrets are write-only: leaving one empty on edit keeps the stored one.
 */
import { useState, type FormEvent } from 'react';
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import type {
  ConfigurationProfile,
  ConfigurationProfileInput,
  CustomPayloadType,
  Platform,
  PolicyAssignment,
  ProfileKind,
  ProfileStatusSummary,
  WifiSecurity,
} from '@custos/shared';
import { del, get, post, put } from '../api';
import { can, useSession } from '../common/session';
import { Check, described, errorText, Field, Outcome, serverFieldErrors, type FieldErrors } from '../common/forms';
import { AssignmentsEditor, assignmentProblems, describeAssignments, useGroups } from './Assignments';
import { intOrUndefined, intProblem, lines, PLATFORM_OPTIONS, PROFILE_KIND_LABELS, PROFILE_STATUS_LABELS } from './options';

interface Peer {
  publicKey: string;
  endpoint: string;
  allowedIPs: string;
  persistentKeepalive: string;
}

interface Draft {
  name: string;
  description: string;
  platform: Platform | '';
  kind: ProfileKind;
  // Wi-Fi
  ssid: string;
  security: WifiSecurity;
  passphrase: string;
  passphraseSet: boolean;
  hidden: boolean;
  autoConnect: boolean;
  eapMethod: 'peap' | 'ttls';
  identity: string;
  // VPN
  vpnType: 'wireguard' | 'openvpn';
  vpnAutoConnect: boolean;
  wgAddresses: string;
  wgDns: string;
  wgListenPort: string;
  wgMtu: string;
  wgPrivateKey: string;
  wgPrivateKeySet: boolean;
  peers: Peer[];
  ovRemote: string;
  ovPort: string;
  ovProto: 'udp' | 'tcp';
  ovCa: string;
  ovAuthentication: 'certificate' | 'password' | 'password-certificate';
  ovUsername: string;
  ovClientCertificateProfileId: string;
  // certificate
  certificateType: 'trustedRoot' | 'clientCertificate';
  rootSource: 'tenantCa' | 'pem';
  rootPem: string;
  subjectTemplate: string;
  validityDays: string;
  // restrictions
  cameraDisabled: boolean;
  usbStorageDisabled: boolean;
  bluetoothDisabled: boolean;
  screenCaptureDisabled: boolean;
  screenLockMaxMinutes: string;
  minimumPasswordLength: string;
  // custom
  payloadType: CustomPayloadType;
  content: string;
  assignments: PolicyAssignment[];
}

/** The draft's text members: what `text()` and `area()` bind. */
type TextKey = { [K in keyof Draft]: Draft[K] extends string ? K : never }[keyof Draft];

const EMPTY_PEER: Peer = { publicKey: '', endpoint: '', allowedIPs: '', persistentKeepalive: '' };

const EMPTY: Draft = {
  name: '',
  description: '',
  platform: '',
  kind: 'wifi',
  ssid: '',
  security: 'wpa2-personal',
  passphrase: '',
  passphraseSet: false,
  hidden: false,
  autoConnect: true,
  eapMethod: 'peap',
  identity: '',
  vpnType: 'wireguard',
  vpnAutoConnect: false,
  wgAddresses: '',
  wgDns: '',
  wgListenPort: '',
  wgMtu: '',
  wgPrivateKey: '',
  wgPrivateKeySet: false,
  peers: [EMPTY_PEER],
  ovRemote: '',
  ovPort: '',
  ovProto: 'udp',
  ovCa: '',
  ovAuthentication: 'certificate',
  ovUsername: '',
  ovClientCertificateProfileId: '',
  certificateType: 'trustedRoot',
  rootSource: 'tenantCa',
  rootPem: '',
  subjectTemplate: '',
  validityDays: '',
  cameraDisabled: false,
  usbStorageDisabled: false,
  bluetoothDisabled: false,
  screenCaptureDisabled: false,
  screenLockMaxMinutes: '',
  minimumPasswordLength: '',
  payloadType: 'networkmanager-keyfile',
  content: '',
  assignments: [],
};

const str = (n: number | undefined) => (n === undefined ? '' : String(n));

function toDraft(p: ConfigurationProfile): Draft {
  const d: Draft = {
    ...EMPTY,
    name: p.name,
    description: p.description ?? '',
    platform: p.platform ?? '',
    kind: p.kind,
    assignments: p.assignments,
  };
  if (p.wifi)
    Object.assign(d, {
      ssid: p.wifi.ssid,
      security: p.wifi.security,
      passphraseSet: p.wifi.passphraseSet,
      hidden: p.wifi.hidden === true,
      autoConnect: p.wifi.autoConnect !== false,
      eapMethod: p.wifi.eapMethod ?? 'peap',
      identity: p.wifi.identity ?? '',
    });
  if (p.vpn) {
    Object.assign(d, { vpnType: p.vpn.vpnType, vpnAutoConnect: p.vpn.autoConnect === true });
    const wg = p.vpn.wireguard;
    if (wg)
      Object.assign(d, {
        wgAddresses: wg.addresses.join('\n'),
        wgDns: (wg.dns ?? []).join('\n'),
        wgListenPort: str(wg.listenPort),
        wgMtu: str(wg.mtu),
        wgPrivateKeySet: wg.privateKeySet,
        peers: wg.peers.map((peer) => ({
          publicKey: peer.publicKey,
          endpoint: peer.endpoint ?? '',
          allowedIPs: peer.allowedIPs.join(', '),
          persistentKeepalive: str(peer.persistentKeepalive),
        })),
      });
    const ov = p.vpn.openvpn;
    if (ov)
      Object.assign(d, {
        ovRemote: ov.remote,
        ovPort: str(ov.port),
        ovProto: ov.proto ?? 'udp',
        ovCa: ov.ca,
        ovAuthentication: ov.authentication,
        ovUsername: ov.username ?? '',
        ovClientCertificateProfileId: ov.clientCertificateProfileId ?? '',
      });
  }
  if (p.certificate)
    Object.assign(d, {
      certificateType: p.certificate.certificateType,
      rootSource: p.certificate.trustedRoot?.source ?? 'tenantCa',
      rootPem: p.certificate.trustedRoot?.pem ?? '',
      subjectTemplate: p.certificate.clientCertificate?.subjectTemplate ?? '',
      validityDays: str(p.certificate.clientCertificate?.validityDays),
    });
  if (p.restrictions) {
    const r = p.restrictions;
    Object.assign(d, {
      cameraDisabled: r.cameraDisabled === true,
      usbStorageDisabled: r.usbStorageDisabled === true,
      bluetoothDisabled: r.bluetoothDisabled === true,
      screenCaptureDisabled: r.screenCaptureDisabled === true,
      screenLockMaxMinutes: str(r.screenLockMaxMinutes),
      minimumPasswordLength: str(r.minimumPasswordLength),
    });
  }
  if (p.custom) Object.assign(d, { payloadType: p.custom.payloadType, content: p.custom.content });
  return d;
}

// The patterns of configuration-profiles.ts.
const WIREGUARD_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
const CIDR = /^[0-9A-Fa-f:.]+\/[0-9]{1,3}$/;
const ENDPOINT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/;
const HOST = /^[A-Za-z0-9.:-]+$/;
const TEMPLATE_VARIABLES = ['deviceName', 'deviceId', 'serialNumber', 'userEmail', 'tenantId'];

const FIELDS = [
  'name',
  'description',
  'wifi.ssid',
  'wifi.passphrase',
  'wifi.identity',
  'vpn.wireguard.addresses',
  'vpn.wireguard.dns',
  'vpn.wireguard.listenPort',
  'vpn.wireguard.mtu',
  'vpn.wireguard.privateKey',
  'vpn.wireguard.peers',
  'vpn.openvpn.remote',
  'vpn.openvpn.port',
  'vpn.openvpn.ca',
  'vpn.openvpn.username',
  'vpn.openvpn.clientCertificateProfileId',
  'certificate.trustedRoot.pem',
  'certificate.clientCertificate.subjectTemplate',
  'certificate.clientCertificate.validityDays',
  'restrictions',
  'custom.content',
];

function validate(d: Draft, editing: boolean): FieldErrors {
  const e: FieldErrors = {};
  const mark = (k: string, m: string | undefined) => {
    if (m && !e[k]) e[k] = m;
  };
  if (!d.name.trim()) mark('name', 'Required.');
  if (d.name.length > 200) mark('name', 'At most 200 characters.');
  if (d.description.length > 2000) mark('description', 'At most 2,000 characters.');
  if (d.kind === 'wifi') {
    const octets = new TextEncoder().encode(d.ssid).length;
    if (octets < 1 || octets > 32) mark('wifi.ssid', 'An SSID is 1 to 32 bytes.');
    const needsSecret = d.security !== 'none' && !(editing && d.passphraseSet);
    if (d.passphrase && (d.passphrase.length < 8 || d.passphrase.length > 63)) mark('wifi.passphrase', '8 to 63 characters.');
    else if (needsSecret && !d.passphrase) mark('wifi.passphrase', 'Required for this security.');
    if (d.security === 'wpa2-enterprise' && !d.identity.trim()) mark('wifi.identity', 'Required for WPA2-Enterprise.');
  }
  if (d.kind === 'vpn' && d.vpnType === 'wireguard') {
    const addresses = lines(d.wgAddresses);
    if (addresses.length < 1 || addresses.length > 8 || addresses.some((a) => !CIDR.test(a)))
      mark('vpn.wireguard.addresses', '1 to 8 addresses such as 10.8.0.2/32.');
    if (lines(d.wgDns).some((h) => !HOST.test(h))) mark('vpn.wireguard.dns', 'Host names or IP addresses.');
    mark('vpn.wireguard.listenPort', intProblem(d.wgListenPort, 1, 65535));
    mark('vpn.wireguard.mtu', intProblem(d.wgMtu, 576, 9000));
    if (d.wgPrivateKey && !WIREGUARD_KEY.test(d.wgPrivateKey)) mark('vpn.wireguard.privateKey', 'A WireGuard key: 44 base64 characters.');
    if (d.peers.length < 1) mark('vpn.wireguard.peers', 'At least one peer.');
    d.peers.forEach((peer, i) => {
      const n = `Peer ${i + 1}: `;
      if (!WIREGUARD_KEY.test(peer.publicKey)) mark('vpn.wireguard.peers', `${n}the public key is not a WireGuard key.`);
      if (peer.endpoint && !ENDPOINT.test(peer.endpoint)) mark('vpn.wireguard.peers', `${n}the endpoint is host:port.`);
      const ips = peer.allowedIPs
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (ips.length < 1 || ips.some((a) => !CIDR.test(a))) mark('vpn.wireguard.peers', `${n}allowed IPs such as 0.0.0.0/0.`);
      const keepalive = intProblem(peer.persistentKeepalive, 0, 65535);
      if (keepalive) mark('vpn.wireguard.peers', `${n}keepalive: ${keepalive}`);
    });
  }
  if (d.kind === 'vpn' && d.vpnType === 'openvpn') {
    if (!HOST.test(d.ovRemote)) mark('vpn.openvpn.remote', 'A host name or IP address.');
    mark('vpn.openvpn.port', intProblem(d.ovPort, 1, 65535));
    if (!d.ovCa.includes('BEGIN CERTIFICATE')) mark('vpn.openvpn.ca', 'The server CA certificate in PEM.');
    if (d.ovAuthentication !== 'certificate' && !d.ovUsername.trim()) mark('vpn.openvpn.username', 'Required for password sign-in.');
    if (d.ovAuthentication !== 'password' && !d.ovClientCertificateProfileId)
      mark('vpn.openvpn.clientCertificateProfileId', 'Pick a client-certificate profile.');
  }
  if (d.kind === 'certificate') {
    if (d.certificateType === 'trustedRoot' && d.rootSource === 'pem' && !d.rootPem.includes('BEGIN CERTIFICATE'))
      mark('certificate.trustedRoot.pem', 'One CA certificate in PEM.');
    if (d.certificateType === 'clientCertificate') {
      const t = d.subjectTemplate;
      if (t && (t.length < 4 || t.length > 512)) mark('certificate.clientCertificate.subjectTemplate', '4 to 512 characters.');
      const unknown = [...t.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((m) => m[1] ?? '').filter((v) => !TEMPLATE_VARIABLES.includes(v));
      if (unknown.length) mark('certificate.clientCertificate.subjectTemplate', `Unknown variables: ${unknown.join(', ')}.`);
      mark('certificate.clientCertificate.validityDays', intProblem(d.validityDays, 1, 825));
    }
  }
  if (d.kind === 'restrictions') {
    mark('restrictions', intProblem(d.screenLockMaxMinutes, 1, 1440) && `Screen lock: ${intProblem(d.screenLockMaxMinutes, 1, 1440)}`);
    mark('restrictions', intProblem(d.minimumPasswordLength, 4, 64) && `Password length: ${intProblem(d.minimumPasswordLength, 4, 64)}`);
    const any =
      d.cameraDisabled ||
      d.usbStorageDisabled ||
      d.bluetoothDisabled ||
      d.screenCaptureDisabled ||
      d.screenLockMaxMinutes.trim() !== '' ||
      d.minimumPasswordLength.trim() !== '';
    if (!any) mark('restrictions', 'Set at least one restriction.');
  }
  if (d.kind === 'custom' && (d.content.length < 1 || d.content.length > 262144))
    mark('custom.content', 'The payload, 1 to 262,144 characters.');
  mark('assignments', assignmentProblems(d.assignments) ?? undefined);
  return e;
}

function toInput(d: Draft): ConfigurationProfileInput {
  const base = { name: d.name.trim(), description: d.description.trim() || null, platform: d.platform || null };
  switch (d.kind) {
    case 'wifi':
      return {
        ...base,
        kind: 'wifi',
        wifi: {
          ssid: d.ssid,
          security: d.security,
          hidden: d.hidden,
          autoConnect: d.autoConnect,
          ...(d.security !== 'none' && d.passphrase ? { passphrase: d.passphrase } : {}),
          ...(d.security === 'wpa2-enterprise' ? { eapMethod: d.eapMethod, identity: d.identity.trim() } : {}),
        },
      };
    case 'vpn': {
      if (d.vpnType === 'wireguard') {
        const listenPort = intOrUndefined(d.wgListenPort);
        const mtu = intOrUndefined(d.wgMtu);
        return {
          ...base,
          kind: 'vpn',
          vpn: {
            vpnType: 'wireguard',
            autoConnect: d.vpnAutoConnect,
            wireguard: {
              addresses: lines(d.wgAddresses),
              ...(lines(d.wgDns).length ? { dns: lines(d.wgDns) } : {}),
              ...(listenPort === undefined ? {} : { listenPort }),
              ...(mtu === undefined ? {} : { mtu }),
              ...(d.wgPrivateKey ? { privateKey: d.wgPrivateKey } : {}),
              peers: d.peers.map((p) => {
                const keepalive = intOrUndefined(p.persistentKeepalive);
                return {
                  publicKey: p.publicKey.trim(),
                  ...(p.endpoint.trim() ? { endpoint: p.endpoint.trim() } : {}),
                  allowedIPs: p.allowedIPs
                    .split(',')
                    .map((s) => s.trim())
                    .filter(Boolean),
                  ...(keepalive === undefined ? {} : { persistentKeepalive: keepalive }),
                };
              }),
            },
          },
        };
      }
      const port = intOrUndefined(d.ovPort);
      return {
        ...base,
        kind: 'vpn',
        vpn: {
          vpnType: 'openvpn',
          autoConnect: d.vpnAutoConnect,
          openvpn: {
            remote: d.ovRemote.trim(),
            ...(port === undefined ? {} : { port }),
            proto: d.ovProto,
            ca: d.ovCa,
            authentication: d.ovAuthentication,
            ...(d.ovAuthentication !== 'certificate' ? { username: d.ovUsername.trim() } : {}),
            ...(d.ovAuthentication !== 'password' ? { clientCertificateProfileId: d.ovClientCertificateProfileId } : {}),
          },
        },
      };
    }
    case 'certificate': {
      if (d.certificateType === 'trustedRoot')
        return {
          ...base,
          kind: 'certificate',
          certificate: {
            certificateType: 'trustedRoot',
            trustedRoot: d.rootSource === 'pem' ? { source: 'pem', pem: d.rootPem } : { source: 'tenantCa' },
          },
        };
      const validityDays = intOrUndefined(d.validityDays);
      return {
        ...base,
        kind: 'certificate',
        certificate: {
          certificateType: 'clientCertificate',
          clientCertificate: {
            ...(d.subjectTemplate.trim() ? { subjectTemplate: d.subjectTemplate.trim() } : {}),
            ...(validityDays === undefined ? {} : { validityDays }),
          },
        },
      };
    }
    case 'restrictions': {
      const lock = intOrUndefined(d.screenLockMaxMinutes);
      const length = intOrUndefined(d.minimumPasswordLength);
      return {
        ...base,
        kind: 'restrictions',
        restrictions: {
          ...(d.cameraDisabled ? { cameraDisabled: true } : {}),
          ...(d.usbStorageDisabled ? { usbStorageDisabled: true } : {}),
          ...(d.bluetoothDisabled ? { bluetoothDisabled: true } : {}),
          ...(d.screenCaptureDisabled ? { screenCaptureDisabled: true } : {}),
          ...(lock === undefined ? {} : { screenLockMaxMinutes: lock }),
          ...(length === undefined ? {} : { minimumPasswordLength: length }),
        },
      };
    }
    case 'custom':
      return { ...base, kind: 'custom', custom: { payloadType: d.payloadType, content: d.content } };
  }
}

function ProfileEditor(props: { profile: ConfigurationProfile | null; profiles: ConfigurationProfile[]; onDone: () => void }) {
  const queryClient = useQueryClient();
  const editing = props.profile !== null;
  const [d, setDraft] = useState<Draft>(props.profile ? toDraft(props.profile) : EMPTY);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const set = (patch: Partial<Draft>) => setDraft((x) => ({ ...x, ...patch }));
  const setPeer = (i: number, patch: Partial<Peer>) => set({ peers: d.peers.map((p, j) => (j === i ? { ...p, ...patch } : p)) });
  const save = useMutation({
    mutationFn: async () => {
      const input = toInput(d);
      const saved = props.profile
        ? await put<ConfigurationProfile>(`/api/v1/configuration-profiles/${props.profile.id}`, {
            ...input,
            version: props.profile.version,
          })
        : await post<ConfigurationProfile>('/api/v1/configuration-profiles', input);
      await put(`/api/v1/configuration-profiles/${saved.id}/assignments`, { assignments: d.assignments });
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['profiles'] });
      void queryClient.invalidateQueries({ queryKey: ['profile-status'] });
      props.onDone();
    },
    onError: (e) => {
      setErrors(serverFieldErrors(e, FIELDS));
      setError(errorText(e, 'Could not save the profile.'));
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const found = validate(d, editing);
    setErrors(found);
    if (Object.keys(found).length > 0) return setError('Fix the marked fields.');
    save.mutate();
  };
  /** An input bound to a string member of the draft, with its label and error. */
  const text = (
    key: TextKey,
    id: string,
    label: string,
    field?: string,
    extra: { type?: string; placeholder?: string; hint?: string } = {},
  ) => (
    <Field id={id} label={label} error={field ? errors[field] : undefined} {...(extra.hint ? { hint: extra.hint } : {})}>
      <input
        id={id}
        type={extra.type ?? 'text'}
        value={d[key]}
        placeholder={extra.placeholder}
        autoComplete={extra.type === 'password' ? 'new-password' : 'off'}
        onChange={(e) => set({ [key]: e.target.value })}
        {...described(id, field ? errors[field] : undefined, Boolean(extra.hint))}
      />
    </Field>
  );
  const area = (key: TextKey, id: string, label: string, field: string, rows = 3) => (
    <Field id={id} label={label} error={errors[field]}>
      <textarea id={id} rows={rows} value={d[key]} onChange={(e) => set({ [key]: e.target.value })} {...described(id, errors[field])} />
    </Field>
  );
  const clientCertificateProfiles = props.profiles.filter((p) => p.certificate?.certificateType === 'clientCertificate');
  const keptHint = 'Leave empty to keep the stored one.';
  return (
    <form className="panel editor" onSubmit={submit} aria-labelledby="profile-editor-title" noValidate>
      <h2 id="profile-editor-title">{props.profile ? `Edit ${props.profile.name}` : 'New configuration profile'}</h2>
      <div className="form-grid">
        {text('name', 'pr-name', 'Name', 'name')}
        <Field id="pr-kind" label="Type">
          <select id="pr-kind" value={d.kind} disabled={editing} onChange={(e) => set({ kind: e.target.value as ProfileKind })}>
            {(Object.keys(PROFILE_KIND_LABELS) as ProfileKind[]).map((k) => (
              <option key={k} value={k}>
                {PROFILE_KIND_LABELS[k]}
              </option>
            ))}
          </select>
        </Field>
        <Field id="pr-platform" label="Platform">
          <select id="pr-platform" value={d.platform} onChange={(e) => set({ platform: e.target.value as Platform | '' })}>
            <option value="">All platforms</option>
            {PLATFORM_OPTIONS.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </Field>
        {text('description', 'pr-description', 'Description', 'description')}
      </div>

      {d.kind === 'wifi' && (
        <fieldset>
          <legend>Wi-Fi</legend>
          <div className="form-grid">
            {text('ssid', 'pr-ssid', 'Network name (SSID)', 'wifi.ssid')}
            <Field id="pr-security" label="Security">
              <select id="pr-security" value={d.security} onChange={(e) => set({ security: e.target.value as WifiSecurity })}>
                <option value="none">Open (none)</option>
                <option value="wpa2-personal">WPA2-Personal</option>
                <option value="wpa3-personal">WPA3-Personal</option>
                <option value="wpa2-enterprise">WPA2-Enterprise</option>
              </select>
            </Field>
            {d.security !== 'none' &&
              text('passphrase', 'pr-passphrase', d.security === 'wpa2-enterprise' ? 'EAP password' : 'Passphrase', 'wifi.passphrase', {
                type: 'password',
                ...(editing && d.passphraseSet ? { hint: keptHint } : {}),
              })}
            {d.security === 'wpa2-enterprise' && (
              <>
                <Field id="pr-eap" label="EAP method">
                  <select id="pr-eap" value={d.eapMethod} onChange={(e) => set({ eapMethod: e.target.value as Draft['eapMethod'] })}>
                    <option value="peap">PEAP</option>
                    <option value="ttls">TTLS</option>
                  </select>
                </Field>
                {text('identity', 'pr-identity', 'EAP identity', 'wifi.identity')}
              </>
            )}
          </div>
          <div className="row">
            <Check id="pr-hidden" label="Hidden network" checked={d.hidden} onChange={(v) => set({ hidden: v })} />
            <Check id="pr-autoconnect" label="Connect automatically" checked={d.autoConnect} onChange={(v) => set({ autoConnect: v })} />
          </div>
        </fieldset>
      )}

      {d.kind === 'vpn' && (
        <fieldset>
          <legend>VPN</legend>
          <div className="row">
            <Field id="pr-vpntype" label="VPN type">
              <select id="pr-vpntype" value={d.vpnType} onChange={(e) => set({ vpnType: e.target.value as Draft['vpnType'] })}>
                <option value="wireguard">WireGuard</option>
                <option value="openvpn">OpenVPN</option>
              </select>
            </Field>
            <Check id="pr-vpn-auto" label="Connect automatically" checked={d.vpnAutoConnect} onChange={(v) => set({ vpnAutoConnect: v })} />
          </div>
          {d.vpnType === 'wireguard' && (
            <>
              <div className="form-grid">
                {area('wgAddresses', 'pr-wg-addresses', 'Interface addresses (one per line)', 'vpn.wireguard.addresses', 2)}
                {area('wgDns', 'pr-wg-dns', 'DNS servers (one per line)', 'vpn.wireguard.dns', 2)}
                {text('wgListenPort', 'pr-wg-port', 'Listen port', 'vpn.wireguard.listenPort')}
                {text('wgMtu', 'pr-wg-mtu', 'MTU', 'vpn.wireguard.mtu')}
                {text('wgPrivateKey', 'pr-wg-key', 'Private key (optional)', 'vpn.wireguard.privateKey', {
                  type: 'password',
                  hint: editing && d.wgPrivateKeySet ? keptHint : 'Empty: each device makes its own key, which never leaves it.',
                })}
              </div>
              <fieldset aria-describedby={errors['vpn.wireguard.peers'] ? 'pr-peers-error' : undefined}>
                <legend>Peers</legend>
                {d.peers.map((peer, i) => (
                  <div className="form-grid" key={i} role="group" aria-label={`Peer ${i + 1}`}>
                    <Field id={`pr-peer-${i}-key`} label={`Peer ${i + 1} public key`}>
                      <input id={`pr-peer-${i}-key`} value={peer.publicKey} onChange={(e) => setPeer(i, { publicKey: e.target.value })} />
                    </Field>
                    <Field id={`pr-peer-${i}-endpoint`} label={`Peer ${i + 1} endpoint`}>
                      <input
                        id={`pr-peer-${i}-endpoint`}
                        placeholder="vpn.example.com:51820"
                        value={peer.endpoint}
                        onChange={(e) => setPeer(i, { endpoint: e.target.value })}
                      />
                    </Field>
                    <Field id={`pr-peer-${i}-ips`} label={`Peer ${i + 1} allowed IPs (comma-separated)`}>
                      <input id={`pr-peer-${i}-ips`} value={peer.allowedIPs} onChange={(e) => setPeer(i, { allowedIPs: e.target.value })} />
                    </Field>
                    <Field id={`pr-peer-${i}-keepalive`} label={`Peer ${i + 1} keepalive (seconds)`}>
                      <input
                        id={`pr-peer-${i}-keepalive`}
                        value={peer.persistentKeepalive}
                        onChange={(e) => setPeer(i, { persistentKeepalive: e.target.value })}
                      />
                    </Field>
                    {d.peers.length > 1 && (
                      <p>
                        <button type="button" onClick={() => set({ peers: d.peers.filter((_, j) => j !== i) })}>
                          Remove peer {i + 1}
                        </button>
                      </p>
                    )}
                  </div>
                ))}
                <button type="button" onClick={() => set({ peers: [...d.peers, EMPTY_PEER] })}>
                  Add peer
                </button>
                {errors['vpn.wireguard.peers'] && (
                  <p className="error" id="pr-peers-error" role="alert">
                    {errors['vpn.wireguard.peers']}
                  </p>
                )}
              </fieldset>
            </>
          )}
          {d.vpnType === 'openvpn' && (
            <div className="form-grid">
              {text('ovRemote', 'pr-ov-remote', 'Server', 'vpn.openvpn.remote')}
              {text('ovPort', 'pr-ov-port', 'Port', 'vpn.openvpn.port', { placeholder: '1194' })}
              <Field id="pr-ov-proto" label="Protocol">
                <select id="pr-ov-proto" value={d.ovProto} onChange={(e) => set({ ovProto: e.target.value as Draft['ovProto'] })}>
                  <option value="udp">UDP</option>
                  <option value="tcp">TCP</option>
                </select>
              </Field>
              <Field id="pr-ov-auth" label="Authentication">
                <select
                  id="pr-ov-auth"
                  value={d.ovAuthentication}
                  onChange={(e) => set({ ovAuthentication: e.target.value as Draft['ovAuthentication'] })}
                >
                  <option value="certificate">Client certificate</option>
                  <option value="password">User name and password</option>
                  <option value="password-certificate">Both</option>
                </select>
              </Field>
              {d.ovAuthentication !== 'certificate' && text('ovUsername', 'pr-ov-user', 'User name', 'vpn.openvpn.username')}
              {d.ovAuthentication !== 'password' && (
                <Field id="pr-ov-cert" label="Client certificate profile" error={errors['vpn.openvpn.clientCertificateProfileId']}>
                  <select
                    id="pr-ov-cert"
                    value={d.ovClientCertificateProfileId}
                    onChange={(e) => set({ ovClientCertificateProfileId: e.target.value })}
                    {...described('pr-ov-cert', errors['vpn.openvpn.clientCertificateProfileId'])}
                  >
                    <option value="">Choose a profile</option>
                    {clientCertificateProfiles.map((p) => (
                      <option key={p.id} value={p.id}>
                        {p.name}
                      </option>
                    ))}
                  </select>
                </Field>
              )}
              {area('ovCa', 'pr-ov-ca', 'Server CA certificate (PEM)', 'vpn.openvpn.ca', 4)}
            </div>
          )}
        </fieldset>
      )}

      {d.kind === 'certificate' && (
        <fieldset>
          <legend>Certificate</legend>
          <div className="form-grid">
            <Field id="pr-cert-type" label="Certificate">
              <select
                id="pr-cert-type"
                value={d.certificateType}
                onChange={(e) => set({ certificateType: e.target.value as Draft['certificateType'] })}
              >
                <option value="trustedRoot">Trusted root</option>
                <option value="clientCertificate">Client certificate (from the tenant CA)</option>
              </select>
            </Field>
            {d.certificateType === 'trustedRoot' && (
              <Field id="pr-root-source" label="Root">
                <select
                  id="pr-root-source"
                  value={d.rootSource}
                  onChange={(e) => set({ rootSource: e.target.value as Draft['rootSource'] })}
                >
                  <option value="tenantCa">The tenant's CA</option>
                  <option value="pem">An uploaded PEM certificate</option>
                </select>
              </Field>
            )}
            {d.certificateType === 'trustedRoot' && d.rootSource === 'pem' && (
              <Field id="pr-root-pem" label="CA certificate (PEM)" error={errors['certificate.trustedRoot.pem']}>
                <textarea
                  id="pr-root-pem"
                  rows={4}
                  value={d.rootPem}
                  onChange={(e) => set({ rootPem: e.target.value })}
                  {...described('pr-root-pem', errors['certificate.trustedRoot.pem'])}
                />
                <input
                  type="file"
                  aria-label="Upload a PEM file"
                  accept=".pem,.crt,.cer"
                  onChange={(e) => void e.target.files?.[0]?.text().then((t) => set({ rootPem: t }))}
                />
              </Field>
            )}
            {d.certificateType === 'clientCertificate' && (
              <>
                {text('subjectTemplate', 'pr-subject', 'Subject', 'certificate.clientCertificate.subjectTemplate', {
                  placeholder: 'CN={{deviceName}}',
                  hint: 'Variables: {{deviceName}}, {{deviceId}}, {{serialNumber}}, {{userEmail}}, {{tenantId}}.',
                })}
                {text('validityDays', 'pr-validity', 'Valid for days', 'certificate.clientCertificate.validityDays', {
                  placeholder: '365',
                })}
              </>
            )}
          </div>
        </fieldset>
      )}

      {d.kind === 'restrictions' && (
        <fieldset aria-describedby={errors['restrictions'] ? 'pr-restrictions-error' : undefined}>
          <legend>Restrictions</legend>
          <div className="row">
            <Check id="pr-camera" label="Disable the camera" checked={d.cameraDisabled} onChange={(v) => set({ cameraDisabled: v })} />
            <Check
              id="pr-usb"
              label="Disable USB storage"
              checked={d.usbStorageDisabled}
              onChange={(v) => set({ usbStorageDisabled: v })}
            />
            <Check
              id="pr-bluetooth"
              label="Disable Bluetooth"
              checked={d.bluetoothDisabled}
              onChange={(v) => set({ bluetoothDisabled: v })}
            />
            <Check
              id="pr-capture"
              label="Disable screen capture"
              checked={d.screenCaptureDisabled}
              onChange={(v) => set({ screenCaptureDisabled: v })}
            />
          </div>
          <div className="form-grid">
            {text('screenLockMaxMinutes', 'pr-lock', 'Screen lock after at most (minutes)')}
            {text('minimumPasswordLength', 'pr-pwlen', 'Minimum password length')}
          </div>
          {errors['restrictions'] && (
            <p className="error" id="pr-restrictions-error" role="alert">
              {errors['restrictions']}
            </p>
          )}
        </fieldset>
      )}

      {d.kind === 'custom' && (
        <fieldset>
          <legend>Custom payload</legend>
          <Field id="pr-payload-type" label="Payload type">
            <select id="pr-payload-type" value={d.payloadType} onChange={(e) => set({ payloadType: e.target.value as CustomPayloadType })}>
              <option value="networkmanager-keyfile">NetworkManager keyfile (Linux)</option>
              <option value="apple-configuration-profile">Apple configuration profile (macOS, iOS, iPadOS)</option>
              <option value="windows-policy-csp">Windows policy CSP</option>
            </select>
          </Field>
          {area('content', 'pr-content', 'Content', 'custom.content', 8)}
        </fieldset>
      )}

      <AssignmentsEditor idPrefix="profile" value={d.assignments} onChange={(assignments) => set({ assignments })} />
      {errors['assignments'] && (
        <p className="error" role="alert">
          {errors['assignments']}
        </p>
      )}
      <p className="row">
        <button className="primary" type="submit" disabled={save.isPending}>
          {editing ? 'Save profile' : 'Create profile'}
        </button>
        <button type="button" onClick={props.onDone}>
          Cancel
        </button>
      </p>
      <Outcome error={error} />
    </form>
  );
}

export function Profiles() {
  const { session } = useSession();
  const queryClient = useQueryClient();
  const writable = can(session, 'policies.write');
  const profiles = useQuery({
    queryKey: ['profiles'],
    queryFn: () => get<{ items: ConfigurationProfile[] }>('/api/v1/configuration-profiles'),
  });
  const groups = useGroups();
  const statuses = useQueries({
    queries: (profiles.data?.items ?? []).map((p) => ({
      queryKey: ['profile-status', p.id, p.version],
      queryFn: () => get<ProfileStatusSummary>(`/api/v1/configuration-profiles/${p.id}/status`),
      refetchInterval: 15_000,
    })),
  });
  const [editing, setEditing] = useState<ConfigurationProfile | 'new' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const remove = useMutation({
    mutationFn: (id: string) => del(`/api/v1/configuration-profiles/${id}`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['profiles'] }),
    onError: (e) => setError(errorText(e)),
  });
  const statusKeys = Object.keys(PROFILE_STATUS_LABELS) as (keyof typeof PROFILE_STATUS_LABELS)[];
  return (
    <main>
      <div className="row heading-row">
        <h1>Configuration profiles</h1>
        {writable && editing === null && (
          <button className="primary" onClick={() => setEditing('new')}>
            New profile
          </button>
        )}
      </div>
      {editing !== null && (
        <ProfileEditor
          key={editing === 'new' ? 'new' : editing.id}
          profile={editing === 'new' ? null : editing}
          profiles={profiles.data?.items ?? []}
          onDone={() => setEditing(null)}
        />
      )}
      <section className="panel table-wrap">
        {profiles.isError && <p className="error">{profiles.error.message}</p>}
        {profiles.data?.items.length === 0 && <p className="muted">No profiles yet.</p>}
        <table aria-label="Configuration profiles">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Platform</th>
              <th>Version</th>
              {statusKeys.map((k) => (
                <th key={k}>{PROFILE_STATUS_LABELS[k]}</th>
              ))}
              <th>Assigned to</th>
              {writable && (
                <th>
                  <span className="sr-only">Manage</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {profiles.data?.items.map((p, i) => {
              const counts = statuses[i]?.data?.counts;
              return (
                <tr key={p.id} data-testid={`profile-${p.name}`}>
                  <td>{p.name}</td>
                  <td>
                    {PROFILE_KIND_LABELS[p.kind]}
                    {p.vpn ? ` (${p.vpn.vpnType === 'wireguard' ? 'WireGuard' : 'OpenVPN'})` : ''}
                  </td>
                  <td>{p.platform ?? 'all'}</td>
                  <td>{p.version}</td>
                  {statusKeys.map((k) => (
                    <td key={k} data-testid={`count-${k}`}>
                      {counts ? counts[k] : '…'}
                    </td>
                  ))}
                  <td className="wrap">{describeAssignments(p.assignments, groups.data?.items)}</td>
                  {writable && (
                    <td className="cell-actions">
                      <button onClick={() => setEditing(p)}>
                        Edit<span className="sr-only"> {p.name}</span>
                      </button>
                      <button
                        className="danger"
                        onClick={() => confirm(`Delete the profile "${p.name}"? Devices remove it.`) && remove.mutate(p.id)}
                      >
                        Delete<span className="sr-only"> {p.name}</span>
                      </button>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
        <Outcome error={error} />
      </section>
    </main>
  );
}
