/**
 * Configuration profiles (SPEC §6): Wi-Fi, VPN (WireGuard, OpenVPN), certificates (a trusted root;
 * a client certificate the tenant CA issues from a CSR the device makes), device restrictions and
 * custom platform-native payloads. The schemas of the admin API and of the device protocol, which
 * platform's agent can apply what, and the merge of several restriction profiles into one set
 * (the most restrictive value wins; every disagreement is reported as a conflict).
 */
import { Type, type Static, type TSchema } from 'typebox';
import { PlatformSchema, PolicyAssignmentSchema, PolicyScopeTags, Timestamp, Uuid } from './api-schemas.js';
import type { Platform } from './platforms.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const StringEnum = <const T extends string[]>(values: readonly [...T]) => Type.Enum(values);

export const PROFILE_KINDS = ['wifi', 'vpn', 'certificate', 'restrictions', 'custom'] as const;
export type ProfileKind = (typeof PROFILE_KINDS)[number];

export const PROFILE_STATUSES = ['pending', 'succeeded', 'failed', 'notApplicable'] as const;
export type ProfileStatus = (typeof PROFILE_STATUSES)[number];

/** What a device reports for a profile; `pending` is the server's own state until it does. */
export const REPORTED_PROFILE_STATUSES = ['succeeded', 'failed', 'notApplicable'] as const;
export type ReportedProfileStatus = (typeof REPORTED_PROFILE_STATUSES)[number];

// ---- Wi-Fi -------------------------------------------------------------------------------------

export const WIFI_SECURITY = ['none', 'wpa2-personal', 'wpa3-personal', 'wpa2-enterprise'] as const;
export type WifiSecurity = (typeof WIFI_SECURITY)[number];

const wifiCommon = {
  /** IEEE 802.11: an SSID is 1–32 octets. */
  ssid: Type.String({ minLength: 1, maxLength: 32 }),
  security: StringEnum(WIFI_SECURITY),
  hidden: Type.Optional(Type.Boolean({ description: 'The network does not broadcast its SSID.' })),
  autoConnect: Type.Optional(Type.Boolean({ description: 'Join automatically when in range (default true).' })),
  eapMethod: Type.Optional(StringEnum(['peap', 'ttls'] as const)),
  identity: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'wpa2-enterprise: the EAP identity.' })),
};

export const WifiSettingsSchema = Type.Object(
  {
    ...wifiCommon,
    passphrase: Type.Optional(
      Type.String({
        minLength: 8,
        maxLength: 63,
        description:
          'Write-only. Personal: the pre-shared key (8–63 characters); enterprise: the EAP password. Kept on update when omitted.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type WifiSettings = Static<typeof WifiSettingsSchema>;

// ---- VPN ---------------------------------------------------------------------------------------

/** A WireGuard key: 32 bytes in standard base64 (44 characters with the padding). */
const WIREGUARD_KEY_PATTERN = '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$';
const CIDR = Type.String({ minLength: 3, maxLength: 64, pattern: '^[0-9A-Fa-f:.]+/[0-9]{1,3}$' });
const ENDPOINT = Type.String({ minLength: 3, maxLength: 261, pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$' });
const HOST = Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:-]+$' });

export const WireGuardPeerSchema = Type.Object(
  {
    publicKey: Type.String({ pattern: WIREGUARD_KEY_PATTERN }),
    endpoint: Type.Optional(ENDPOINT),
    allowedIPs: Type.Array(CIDR, { minItems: 1, maxItems: 64 }),
    persistentKeepalive: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  },
  { additionalProperties: false },
);

const wireGuardCommon = {
  addresses: Type.Array(CIDR, { minItems: 1, maxItems: 8, description: "The interface's own addresses, e.g. 10.8.0.2/32." }),
  dns: Type.Optional(Type.Array(HOST, { maxItems: 8 })),
  listenPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  mtu: Type.Optional(Type.Integer({ minimum: 576, maximum: 9000 })),
  peers: Type.Array(WireGuardPeerSchema, { minItems: 1, maxItems: 64 }),
};

export const WireGuardSettingsSchema = Type.Object(
  {
    ...wireGuardCommon,
    privateKey: Type.Optional(
      Type.String({
        pattern: WIREGUARD_KEY_PATTERN,
        description: 'Write-only. Omit it and each device generates its own key, which never leaves it; the device reports the public key.',
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * NetworkManager openvpn plugin data keys (nm-openvpn `NM_OPENVPN_KEY_*`) an admin may set directly.
 * A closed list: nothing that names a script or a file to run (`up`, `down`, `script-security`, ...).
 */
const OPENVPN_OPTIONS = [
  'cipher',
  'data-ciphers',
  'auth',
  'comp-lzo',
  'compress',
  'tls-cipher',
  'tls-version-min',
  'reneg-seconds',
  'mssfix',
  'tunnel-mtu',
  'verify-x509-name',
  'remote-cert-tls',
  'ping',
  'ping-restart',
  'dev-type',
] as const;
const OpenVpnOptionValue = Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\n\\r]*$' });

export const OpenVpnSettingsSchema = Type.Object(
  {
    remote: HOST,
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Default 1194.' })),
    proto: Type.Optional(StringEnum(['udp', 'tcp'] as const)),
    ca: Type.String({ minLength: 1, maxLength: 65536, description: 'The server CA certificate in PEM.' }),
    authentication: StringEnum(['certificate', 'password', 'password-certificate'] as const),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    clientCertificateProfileId: Type.Optional(
      Type.String({ format: 'uuid', description: 'A clientCertificate profile whose certificate and key authenticate the device.' }),
    ),
    options: Type.Optional(
      Type.Object(Object.fromEntries(OPENVPN_OPTIONS.map((k) => [k, Type.Optional(OpenVpnOptionValue)])), {
        additionalProperties: false,
        description: 'More OpenVPN options in the NetworkManager openvpn plugin names (cipher, auth, compress, ...).',
      }),
    ),
  },
  { additionalProperties: false },
);

export const VpnSettingsSchema = Type.Object(
  {
    vpnType: StringEnum(['wireguard', 'openvpn'] as const),
    autoConnect: Type.Optional(Type.Boolean()),
    wireguard: Type.Optional(WireGuardSettingsSchema),
    openvpn: Type.Optional(OpenVpnSettingsSchema),
  },
  { additionalProperties: false },
);
export type VpnSettings = Static<typeof VpnSettingsSchema>;

// ---- Certificates ------------------------------------------------------------------------------

/** `{{deviceName}}`, `{{deviceId}}`, `{{serialNumber}}`, `{{userEmail}}`, `{{tenantId}}` in a subject DN. */
export const SUBJECT_TEMPLATE_VARIABLES = ['deviceName', 'deviceId', 'serialNumber', 'userEmail', 'tenantId'] as const;
export type SubjectTemplateValues = Record<(typeof SUBJECT_TEMPLATE_VARIABLES)[number], string | null>;

export const CertificateSettingsSchema = Type.Object(
  {
    certificateType: StringEnum(['trustedRoot', 'clientCertificate'] as const),
    trustedRoot: Type.Optional(
      Type.Object(
        {
          source: StringEnum(['tenantCa', 'pem'] as const),
          pem: Type.Optional(Type.String({ minLength: 1, maxLength: 65536, description: 'For source "pem": one CA certificate in PEM.' })),
        },
        { additionalProperties: false },
      ),
    ),
    clientCertificate: Type.Optional(
      Type.Object(
        {
          subjectTemplate: Type.Optional(
            Type.String({ minLength: 4, maxLength: 512, description: 'A subject DN with variables; default "CN={{deviceName}}".' }),
          ),
          validityDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 825, description: 'Default 365.' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type CertificateSettings = Static<typeof CertificateSettingsSchema>;

export const DEFAULT_SUBJECT_TEMPLATE = 'CN={{deviceName}}';
export const DEFAULT_CLIENT_CERTIFICATE_DAYS = 365;

// ---- Restrictions ------------------------------------------------------------------------------

/**
 * Each restriction and what "more restrictive" means for it: a boolean is more restrictive when
 * true; a number is more restrictive when smaller (`min`: a shorter screen-lock delay) or larger
 * (`max`: a longer minimum password).
 */
export const RESTRICTIONS = {
  cameraDisabled: 'true',
  usbStorageDisabled: 'true',
  bluetoothDisabled: 'true',
  screenCaptureDisabled: 'true',
  screenLockMaxMinutes: 'min',
  minimumPasswordLength: 'max',
} as const satisfies Record<string, 'true' | 'min' | 'max'>;
export type RestrictionName = keyof typeof RESTRICTIONS;

export const RestrictionSettingsSchema = Type.Object(
  {
    cameraDisabled: Type.Optional(Type.Boolean()),
    usbStorageDisabled: Type.Optional(Type.Boolean()),
    bluetoothDisabled: Type.Optional(Type.Boolean()),
    screenCaptureDisabled: Type.Optional(Type.Boolean()),
    screenLockMaxMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440 })),
    minimumPasswordLength: Type.Optional(Type.Integer({ minimum: 4, maximum: 64 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type RestrictionSettings = Static<typeof RestrictionSettingsSchema>;

// ---- Custom ------------------------------------------------------------------------------------

/** Platform-native payloads Custos passes through unchanged, and the platforms each is for. */
export const CUSTOM_PAYLOAD_TYPES = {
  'networkmanager-keyfile': ['linux'],
  'apple-configuration-profile': ['macos', 'ios', 'ipados'],
  'windows-policy-csp': ['windows'],
} as const satisfies Record<string, readonly Platform[]>;
export type CustomPayloadType = keyof typeof CUSTOM_PAYLOAD_TYPES;

export const CustomSettingsSchema = Type.Object(
  {
    payloadType: StringEnum(Object.keys(CUSTOM_PAYLOAD_TYPES) as CustomPayloadType[]),
    content: Type.String({ minLength: 1, maxLength: 262144, description: 'The payload text, applied as given.' }),
  },
  { additionalProperties: false },
);
export type CustomSettings = Static<typeof CustomSettingsSchema>;

// ---- Profiles in the admin API ------------------------------------------------------------------

const profileFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  platform: Type.Optional(Nullable(PlatformSchema)),
  kind: StringEnum(PROFILE_KINDS),
  wifi: Type.Optional(WifiSettingsSchema),
  vpn: Type.Optional(VpnSettingsSchema),
  certificate: Type.Optional(CertificateSettingsSchema),
  restrictions: Type.Optional(RestrictionSettingsSchema),
  custom: Type.Optional(CustomSettingsSchema),
  scopeTags: Type.Optional(PolicyScopeTags),
};

/** A new profile: `kind` names it, and the member of that name (only that one) holds its settings. */
export const ConfigurationProfileInputSchema = Type.Object(profileFields, { additionalProperties: false });
export type ConfigurationProfileInput = Static<typeof ConfigurationProfileInputSchema>;

/** A whole replacement; `version`, when sent, must be the current one (else 409). Omitted secrets are kept. */
export const ConfigurationProfileUpdateSchema = Type.Object(
  { ...profileFields, version: Type.Optional(Type.Integer({ minimum: 1 })) },
  { additionalProperties: false },
);
export type ConfigurationProfileUpdate = Static<typeof ConfigurationProfileUpdateSchema>;

/** The settings of one profile, whichever kind it is. */
export type ProfileSettings =
  | { kind: 'wifi'; wifi: WifiSettings }
  | { kind: 'vpn'; vpn: VpnSettings }
  | { kind: 'certificate'; certificate: CertificateSettings }
  | { kind: 'restrictions'; restrictions: RestrictionSettings }
  | { kind: 'custom'; custom: CustomSettings };

/** Write-only secrets never come back: the admin API says only whether one is set. */
const WifiSettingsViewSchema = Type.Object({ ...wifiCommon, passphraseSet: Type.Boolean() });
const VpnSettingsViewSchema = Type.Object({
  vpnType: StringEnum(['wireguard', 'openvpn'] as const),
  autoConnect: Type.Optional(Type.Boolean()),
  wireguard: Type.Optional(
    Type.Object({ ...wireGuardCommon, privateKeySet: Type.Boolean({ description: 'False: each device generates its own key.' }) }),
  ),
  openvpn: Type.Optional(OpenVpnSettingsSchema),
});

export const ConfigurationProfileSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Nullable(Type.String()),
  platform: Nullable(PlatformSchema),
  kind: StringEnum(PROFILE_KINDS),
  wifi: Type.Optional(WifiSettingsViewSchema),
  vpn: Type.Optional(VpnSettingsViewSchema),
  certificate: Type.Optional(CertificateSettingsSchema),
  restrictions: Type.Optional(RestrictionSettingsSchema),
  custom: Type.Optional(CustomSettingsSchema),
  version: Type.Integer({ description: 'Increases with every change of the profile.' }),
  scopeTags: Type.Array(Type.String()),
  assignments: Type.Array(PolicyAssignmentSchema),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type ConfigurationProfile = Static<typeof ConfigurationProfileSchema>;

export const ConfigurationProfileListSchema = Type.Object({ items: Type.Array(ConfigurationProfileSchema) });

export const RestrictionConflictSchema = Type.Object({
  setting: Type.String(),
  resolvedValue: Type.Union([Type.Boolean(), Type.Integer()]),
  values: Type.Array(Type.Object({ profileId: Uuid, value: Type.Union([Type.Boolean(), Type.Integer()]) })),
});
export type RestrictionConflict = Static<typeof RestrictionConflictSchema>;

export const DeviceProfileStatusSchema = Type.Object({
  profileId: Uuid,
  name: Type.String(),
  kind: StringEnum(PROFILE_KINDS),
  version: Type.Integer({ description: 'The profile version this status is about.' }),
  status: StringEnum(PROFILE_STATUSES),
  reason: Nullable(Type.String()),
  removing: Type.Boolean({ description: 'Unassigned: the device is to remove it, and the row goes when it reports so.' }),
  conflicts: Type.Array(RestrictionConflictSchema),
  publicKey: Nullable(Type.String({ description: 'WireGuard: the public key of the key the device generated.' })),
  updatedAt: Timestamp,
  reportedAt: Nullable(Timestamp),
});
export type DeviceProfileStatus = Static<typeof DeviceProfileStatusSchema>;

export const DeviceProfilesSchema = Type.Object({ deviceId: Uuid, items: Type.Array(DeviceProfileStatusSchema) });
export type DeviceProfiles = Static<typeof DeviceProfilesSchema>;

export const ProfileStatusSummarySchema = Type.Object({
  profileId: Uuid,
  version: Type.Integer(),
  counts: Type.Object({
    pending: Type.Integer(),
    succeeded: Type.Integer(),
    failed: Type.Integer(),
    notApplicable: Type.Integer(),
  }),
});
export type ProfileStatusSummary = Static<typeof ProfileStatusSummarySchema>;

// ---- The device protocol ----------------------------------------------------------------------

/** One profile as the device receives it: its settings whole, secrets included (over the device session). */
export const DeliveredProfileSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  version: Type.Integer(),
  kind: StringEnum(PROFILE_KINDS),
  wifi: Type.Optional(WifiSettingsSchema),
  vpn: Type.Optional(VpnSettingsSchema),
  certificate: Type.Optional(
    Type.Object({
      certificateType: StringEnum(['trustedRoot', 'clientCertificate'] as const),
      /** trustedRoot: the certificate to trust (the tenant CA's, or the uploaded one). */
      pem: Type.Optional(Type.String()),
    }),
  ),
  restrictions: Type.Optional(RestrictionSettingsSchema),
  custom: Type.Optional(CustomSettingsSchema),
});
export type DeliveredProfile = Static<typeof DeliveredProfileSchema>;

/** What `GET /api/v1/agent/profiles` answers: the whole desired set and what to remove. */
export const AgentProfileSetSchema = Type.Object({
  digest: Type.String({ description: 'The digest the check-in announced for this set.' }),
  profiles: Type.Array(DeliveredProfileSchema),
  /** The merged restrictions of every restrictions profile in `profiles` (most restrictive wins). */
  restrictions: Nullable(
    Type.Object({ settings: RestrictionSettingsSchema, profileIds: Type.Array(Uuid), conflicts: Type.Array(RestrictionConflictSchema) }),
  ),
  remove: Type.Array(Uuid, { description: 'Profiles unassigned from the device: remove what was installed for them.' }),
});
export type AgentProfileSet = Static<typeof AgentProfileSetSchema>;

export const ProfileStatusReportSchema = Type.Object(
  {
    digest: Type.String({ maxLength: 128 }),
    results: Type.Array(
      Type.Object(
        {
          profileId: Uuid,
          version: Type.Integer({ minimum: 1 }),
          status: StringEnum(REPORTED_PROFILE_STATUSES),
          reason: Type.Optional(Type.String({ maxLength: 4096 })),
          publicKey: Type.Optional(Type.String({ pattern: WIREGUARD_KEY_PATTERN })),
        },
        { additionalProperties: false },
      ),
      { maxItems: 1000 },
    ),
    removed: Type.Array(Uuid, { maxItems: 1000 }),
  },
  { additionalProperties: false },
);
export type ProfileStatusReport = Static<typeof ProfileStatusReportSchema>;

export const ProfileCertificateRequestSchema = Type.Object(
  { csr: Type.String({ minLength: 1, maxLength: 16384, description: 'PKCS#10 in PEM, made on the device for a key that stays there.' }) },
  { additionalProperties: false },
);
export type ProfileCertificateRequest = Static<typeof ProfileCertificateRequestSchema>;

export const ProfileCertificateSchema = Type.Object({
  certificate: Type.String({ description: 'PEM, issued by the tenant CA.' }),
  caCertificate: Type.String(),
  version: Type.Integer({ description: 'The profile version it was issued for.' }),
});
export type ProfileCertificate = Static<typeof ProfileCertificateSchema>;

// ---- Rules shared by the server and the agent ----------------------------------------------------

/** The restrictions the Linux agent applies (modprobe blacklists, a dconf lock); the rest do not apply there. */
export const LINUX_RESTRICTIONS: readonly RestrictionName[] = [
  'cameraDisabled',
  'usbStorageDisabled',
  'bluetoothDisabled',
  'screenLockMaxMinutes',
];

/**
 * Why the Custos agent on `platform` cannot apply `profile`, or undefined when it can. Only the
 * Linux adapter exists so far; the macOS and Windows adapters come later (and Apple MDM devices get
 * profiles as InstallProfile commands).
 */
export function agentCannotApply(platform: Platform, profile: ProfileSettings): string | undefined {
  if (platform !== 'linux') {
    return `The Custos agent on ${platform} has no adapter for ${profile.kind} profiles yet (only Linux has one so far).`;
  }
  switch (profile.kind) {
    case 'wifi':
    case 'vpn':
    case 'certificate':
      return undefined;
    case 'restrictions': {
      const set = Object.keys(profile.restrictions) as RestrictionName[];
      return set.some((s) => LINUX_RESTRICTIONS.includes(s))
        ? undefined
        : `Linux cannot enforce ${set.join(', ')}; it applies only ${LINUX_RESTRICTIONS.join(', ')}.`;
    }
    case 'custom':
      return profile.custom.payloadType === 'networkmanager-keyfile'
        ? undefined
        : `A ${profile.custom.payloadType} payload is not for Linux; Linux applies networkmanager-keyfile payloads.`;
  }
}

export interface RestrictionSource {
  profileId: string;
  settings: RestrictionSettings;
}

export interface MergedRestrictions {
  settings: RestrictionSettings;
  conflicts: RestrictionConflict[];
}

function moreRestrictive(name: RestrictionName, a: boolean | number, b: boolean | number): boolean | number {
  switch (RESTRICTIONS[name]) {
    case 'true':
      return a === true || b === true;
    case 'min':
      return Math.min(Number(a), Number(b));
    case 'max':
      return Math.max(Number(a), Number(b));
  }
}

/**
 * Merges restriction profiles into the set a device applies: for each setting the most restrictive
 * value; when the profiles setting it disagree, a conflict names each one's value and the result.
 */
export function mergeRestrictions(sources: readonly RestrictionSource[]): MergedRestrictions {
  const settings: Record<string, boolean | number> = {};
  const conflicts: RestrictionConflict[] = [];
  for (const name of Object.keys(RESTRICTIONS) as RestrictionName[]) {
    const values = sources.flatMap((s) => (s.settings[name] === undefined ? [] : [{ profileId: s.profileId, value: s.settings[name] }]));
    const [first, ...rest] = values;
    if (!first) continue;
    const resolved = rest.reduce<boolean | number>((acc, v) => moreRestrictive(name, acc, v.value), first.value);
    settings[name] = resolved;
    if (rest.some((v) => v.value !== first.value)) conflicts.push({ setting: name, resolvedValue: resolved, values });
  }
  return { settings, conflicts };
}

/**
 * Fills a subject template. Values are escaped for a DN (RFC 4514), a missing one becomes the
 * device id's place-holder text "unknown". Unknown variables are refused when the profile is saved.
 */
export function renderSubjectTemplate(template: string, values: SubjectTemplateValues): string {
  return template.replace(/\{\{\s*([A-Za-z]+)\s*\}\}/g, (_all, name: string) => {
    const value = values[name as keyof SubjectTemplateValues] ?? 'unknown';
    return value.replace(/[,+"\\<>;=]/g, (c) => `\\${c}`);
  });
}

/** The variables a template names that are not known; empty when it is usable. */
export function unknownTemplateVariables(template: string): string[] {
  const known: readonly string[] = SUBJECT_TEMPLATE_VARIABLES;
  return [...template.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((m) => m[1] ?? '').filter((n) => !known.includes(n));
}
