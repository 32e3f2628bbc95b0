/**
 * The privacy catalog: the one declaration of every field Custos can hold about a device or a person
 * (SPEC §4). Ingestion refuses anything not declared here, the agent collects only what is declared
 * here, and the transparency texts (`/api/v1/privacy/catalog`, the agent's consent text, the Company
 * Portal's "What your organization can see") are generated from it, so none of them can drift from
 * what is actually stored.
 */
import { PLATFORMS, type Ownership, type Platform } from './platforms.js';

export type FieldCategory = 'hardware' | 'app' | 'policy-state' | 'account' | 'admin';
export type Sensitivity = 'normal' | 'sensitive';
export type FieldValueType = 'string' | 'boolean' | 'integer' | 'timestamp';

/** Where a value comes from: reported by the device, or set by Custos itself. */
export type FieldSource = 'device' | 'service';

export interface RetentionRule {
  /** Stable identifier of the rule the retention jobs apply. */
  readonly rule: 'while-enrolled' | 'while-account-exists' | 'audit-period';
  /** What the end user reads. */
  readonly description: string;
}

export interface CatalogField {
  /** The field's name in the API, the inventory document and the storage layer's mapping. */
  readonly name: string;
  readonly label: string;
  readonly category: FieldCategory;
  readonly source: FieldSource;
  readonly valueType: FieldValueType;
  /** Longest accepted string value; values are refused beyond it rather than truncated. */
  readonly maxLength?: number;
  /** For a string field with a fixed vocabulary: the only values accepted (anything else is refused). */
  readonly allowedValues?: readonly string[];
  readonly platforms: readonly Platform[];
  /** One sentence shown to end users. */
  readonly purpose: string;
  readonly retention: RetentionRule;
  /** Sensitive fields are encrypted at rest. */
  readonly sensitivity: Sensitivity;
  /** The permission an admin needs to read the field; the device's own user always sees it too. */
  readonly visibleWith: string;
}

const ALL = PLATFORMS;
const DESKTOP_AND_MOBILE = ALL;

/**
 * The kinds of password a device's policy can demand, an ordinal scale, weakest first. A device's
 * `passwordType` is the strongest kind its policy demands of every password: `numeric`, no character
 * classes required (a PIN of digits passes); `alphanumeric`, two classes required (letters and
 * digits, or any two of pam_pwquality's classes); `complex`, at least three of lower-case letters,
 * upper-case letters, digits and symbols (Windows "complexity requirements", pam_pwquality
 * `minclass=3`, an MDM "complex passcode").
 */
export const PASSWORD_TYPES = ['numeric', 'alphanumeric', 'complex'] as const;
export type PasswordType = (typeof PASSWORD_TYPES)[number];

const WHILE_ENROLLED: RetentionRule = {
  rule: 'while-enrolled',
  description:
    'Kept while the device is enrolled; deleted when the device is retired or removed, and with all tenant data at the end of the subscription.',
};
const WHILE_ACCOUNT: RetentionRule = {
  rule: 'while-account-exists',
  description: 'Kept while the user account exists; deleted with the account, and with all tenant data at the end of the subscription.',
};

function hardware(
  name: string,
  label: string,
  valueType: FieldValueType,
  purpose: string,
  options: { platforms?: readonly Platform[]; sensitivity?: Sensitivity; maxLength?: number; allowedValues?: readonly string[] } = {},
): CatalogField {
  return {
    name,
    label,
    category: 'hardware',
    source: 'device',
    valueType,
    maxLength: valueType === 'string' ? (options.maxLength ?? 256) : undefined,
    ...(options.allowedValues ? { allowedValues: options.allowedValues } : {}),
    platforms: options.platforms ?? DESKTOP_AND_MOBILE,
    purpose,
    retention: WHILE_ENROLLED,
    sensitivity: options.sensitivity ?? 'normal',
    visibleWith: 'devices.read',
  };
}

/** Hardware inventory: the list the whitepaper publishes, plus the declared platform extras. */
export const HARDWARE_FIELDS: readonly CatalogField[] = [
  hardware('deviceName', 'Device name', 'string', 'Lets you and IT tell your devices apart.'),
  hardware('manufacturer', 'Manufacturer', 'string', 'Identifies the hardware for support and warranty.'),
  hardware('model', 'Model', 'string', 'Identifies the hardware for support and compatibility.'),
  hardware('operatingSystem', 'Operating system', 'string', 'Decides which settings and apps apply to the device.'),
  hardware('osVersion', 'OS version', 'string', 'Checks that the device runs a supported, patched operating system.'),
  hardware('processor', 'Processor', 'string', 'Identifies the hardware for support and compatibility.'),
  hardware('serialNumber', 'Serial number', 'string', 'Identifies the device for asset tracking and support.', {
    sensitivity: 'sensitive',
  }),
  // Declared for every platform: phones report it, and so do laptops with a mobile modem.
  hardware('cellularTechnology', 'Cellular technology', 'string', 'Decides which mobile network settings apply.'),
  hardware('jailBroken', 'Jailbreak or root status', 'boolean', 'Detects devices whose built-in protections were removed.'),
  hardware('freeStorageBytes', 'Free storage', 'integer', 'Checks there is room to install required apps and updates.'),
  hardware('totalStorageBytes', 'Total storage', 'integer', 'Describes the hardware for support.'),
  // Declared for every platform: any device with an Exchange ActiveSync mail client has one.
  hardware('exchangeDeviceId', 'Exchange device ID', 'string', 'Connects the device to company email access decisions.', {
    sensitivity: 'sensitive',
  }),
  hardware('wifiMac', 'Wi-Fi MAC address', 'string', 'Lets the company network recognise the device.', {
    sensitivity: 'sensitive',
    maxLength: 17,
  }),
  hardware('ethernetMac', 'Ethernet MAC address', 'string', 'Lets the company network recognise the device.', {
    sensitivity: 'sensitive',
    maxLength: 17,
  }),
  hardware('encrypted', 'Device encryption status', 'boolean', 'Checks that company data at rest on the device is encrypted.'),
  // Platform extras, declared where the platform reports them.
  hardware('imei', 'IMEI', 'string', 'Identifies a phone to its mobile carrier for loss reports.', {
    platforms: ['ios', 'ipados', 'android'],
    sensitivity: 'sensitive',
    maxLength: 20,
  }),
  hardware('supervised', 'Supervised', 'boolean', 'Decides which restrictions the device accepts.', {
    platforms: ['ios', 'ipados', 'macos'],
  }),
  hardware('secureBoot', 'Secure boot', 'boolean', 'Checks that the device starts only trusted software.', {
    platforms: ['windows', 'linux', 'macos'],
  }),
  // Security state for the password and firewall compliance settings: the device's policy, never a
  // password itself. A platform that cannot tell without privileges reports null (not reported).
  hardware('passwordRequired', 'Password required', 'boolean', 'Checks that a password or screen lock protects the device.'),
  hardware(
    'passwordMinimumLength',
    'Minimum password length',
    'integer',
    "Checks that the device's password rules ask for a long enough password.",
  ),
  hardware('passwordType', 'Password type', 'string', "Checks that the device's password rules ask for a strong enough password.", {
    allowedValues: PASSWORD_TYPES,
  }),
  // Phones and tablets have no user-controlled firewall to report.
  hardware('firewallEnabled', 'Firewall', 'boolean', 'Checks that the device blocks unsolicited network connections.', {
    platforms: ['windows', 'linux', 'macos'],
  }),
];

function app(name: string, label: string, valueType: FieldValueType, purpose: string, maxLength?: number): CatalogField {
  return {
    name,
    label,
    category: 'app',
    source: 'device',
    valueType,
    maxLength: valueType === 'string' ? (maxLength ?? 512) : undefined,
    platforms: ALL,
    purpose,
    retention: WHILE_ENROLLED,
    sensitivity: 'normal',
    visibleWith: 'devices.read',
  };
}

/** App inventory fields (one record per installed app, subject to the ownership rule below). */
export const APP_FIELDS: readonly CatalogField[] = [
  app('name', 'App name', 'string', 'Shows which apps are installed, for support and app checks.'),
  app('version', 'App version', 'string', 'Finds outdated apps that need an update.', 128),
  app('appId', 'App ID', 'string', 'Identifies the app (bundle or package id) for install and app checks.'),
  app('installLocation', 'Install location', 'string', 'Tells support where the app is installed.', 1024),
  app('sizeBytes', 'App size', 'integer', 'Helps plan storage for required apps.'),
  app('managed', 'Managed by your organization', 'boolean', 'Separates apps your organization installed from your own.'),
];

function service(
  name: string,
  label: string,
  category: FieldCategory,
  valueType: FieldValueType,
  purpose: string,
  options: { sensitivity?: Sensitivity; retention?: RetentionRule; visibleWith?: string } = {},
): CatalogField {
  return {
    name,
    label,
    category,
    source: 'service',
    valueType,
    platforms: ALL,
    purpose,
    retention: options.retention ?? WHILE_ENROLLED,
    sensitivity: options.sensitivity ?? 'normal',
    visibleWith: options.visibleWith ?? 'devices.read',
  };
}

/** What Custos itself records about a device or person, not reported in inventory. */
export const SERVICE_FIELDS: readonly CatalogField[] = [
  service('ownership', 'Ownership', 'policy-state', 'string', 'Decides how much Custos may collect and what IT may do.'),
  service('complianceState', 'Compliance state', 'policy-state', 'string', 'Decides whether the device can reach company resources.'),
  service('lastCheckInAt', 'Last check-in', 'policy-state', 'timestamp', 'Shows whether the device is still in contact.'),
  service('enrolledAt', 'Enrollment date', 'admin', 'timestamp', 'Shows when the device joined management.'),
  service(
    'consentStatementVersion',
    'Accepted privacy statement',
    'admin',
    'string',
    'Records which privacy statement you accepted, and when.',
  ),
  service('userEmail', 'Email address', 'account', 'string', 'Signs you in and sends you notices about your devices.', {
    sensitivity: 'sensitive',
    retention: WHILE_ACCOUNT,
    visibleWith: 'users.read',
  }),
  service('userDisplayName', 'Display name', 'account', 'string', 'Shows who a device belongs to.', {
    retention: WHILE_ACCOUNT,
    visibleWith: 'users.read',
  }),
  service('userPhone', 'Phone number', 'account', 'string', 'Lets IT contact you about a lost device.', {
    sensitivity: 'sensitive',
    retention: WHILE_ACCOUNT,
    visibleWith: 'users.read',
  }),
];

export const CATALOG_FIELDS: readonly CatalogField[] = [...HARDWARE_FIELDS, ...APP_FIELDS, ...SERVICE_FIELDS];

/**
 * Categories Custos never collects. There is no field for them; a document that tries to send one is
 * refused with the category named, so the refusal is explainable to the person who sent it.
 */
export const PROHIBITED_CATEGORIES = [
  { category: 'location', label: 'Location', pattern: /(gps|geo|location|latitude|longitude|coordinates)/i },
  { category: 'contacts', label: 'Contacts', pattern: /(contact|addressbook)/i },
  { category: 'messages', label: 'Messages', pattern: /(message|sms|mms|imessage|chat)/i },
  { category: 'call-log', label: 'Call log', pattern: /(call_?log|calllog|callhistory|calls)/i },
  { category: 'browsing-history', label: 'Browsing history', pattern: /(browsing|browser_?history|history|visited|url)/i },
  { category: 'photos', label: 'Photos', pattern: /(photo|picture|camera_?roll|image)/i },
  { category: 'documents', label: 'Documents', pattern: /(document|files?$|file_?list)/i },
  { category: 'email-calendar', label: 'Email and calendar content', pattern: /(email_?(body|content)|mailbox|inbox|calendar)/i },
] as const;
export type ProhibitedCategory = (typeof PROHIBITED_CATEGORIES)[number]['category'];

/** Names the prohibited category a field name belongs to, if any. */
export function prohibitedCategoryOf(fieldName: string): ProhibitedCategory | undefined {
  return PROHIBITED_CATEGORIES.find((c) => c.pattern.test(fieldName))?.category;
}

const byName = new Map(CATALOG_FIELDS.map((f) => [`${f.category}:${f.name}`, f]));
export function hardwareField(name: string): CatalogField | undefined {
  return byName.get(`hardware:${name}`);
}
export function appField(name: string): CatalogField | undefined {
  return byName.get(`app:${name}`);
}

/** Which apps Custos keeps for a device (SPEC §4: the ownership rule). */
export type AppInventoryScope = 'all' | 'managed-only';

/**
 * Personal devices keep only apps Custos manages, unless a compliance policy with an app allow or
 * deny list applies to the device; corporate devices keep all apps; macOS keeps all apps whatever the
 * ownership. Enforced on the server (the trust anchor) and again in the agent (data minimization).
 */
export function appInventoryScope(ownership: Ownership, platform: Platform, appListPolicyApplies: boolean): AppInventoryScope {
  if (ownership === 'corporate' || platform === 'macos' || appListPolicyApplies) return 'all';
  return 'managed-only';
}

/** The reason a device's app scope is what it is, in words for its user. */
export function appInventoryScopeReason(ownership: Ownership, platform: Platform, appListPolicyApplies: boolean): string {
  if (ownership === 'corporate') return 'All installed apps, because this device is owned by your organization.';
  if (platform === 'macos') return 'All installed apps, because macOS reports the full app list for every Mac.';
  if (appListPolicyApplies)
    return 'All installed apps, because a compliance policy assigned to this device checks for allowed or blocked apps.';
  return 'Only the apps your organization installed through Custos; your own apps are never collected.';
}
