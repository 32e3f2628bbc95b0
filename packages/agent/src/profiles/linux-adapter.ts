/**
 * The Linux adapter: Wi-Fi and VPN (WireGuard, OpenVPN) as NetworkManager keyfiles, trusted roots
 * in the system trust store (Debian's update-ca-certificates layout), client certificates and their
 * keys under /etc/custos/certs, restrictions as modprobe and dconf files. In real mode the root is
 * "/" and `nmcli connection reload`, `update-ca-certificates` and `dconf update` make changes take
 * effect; root-less mode writes the same files under its own root and runs nothing.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, webcrypto } from 'node:crypto';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { LINUX_RESTRICTIONS, type DeliveredProfile, type RestrictionName, type ReportedProfileStatus } from '@custos/shared';
import { x509 } from '../x509.js';
import { LINUX_PATHS, openvpnKeyfile, restrictionFiles, wifiKeyfile, wireguardKeyfile } from './linux-keyfiles.js';
import type { Activation, AdapterContext, MergedRestrictions, PlannedFile, ProfileAdapter, ProfilePlan } from './profile-adapter.js';

const SECRET = 0o600;
const PUBLIC = 0o644;
const TOOL_TIMEOUT_MS = 60_000;

const ACTIVATION_COMMANDS: Record<Activation, [string, string[]]> = {
  networkmanager: ['nmcli', ['connection', 'reload']],
  'trust-store': ['update-ca-certificates', []],
  dconf: ['dconf', ['update']],
};

/** X25519 PKCS#8 DER is a fixed 16-byte prefix and the 32-byte key (RFC 8410). */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** A WireGuard key pair in wg's base64: the given private key, or a new one made here. */
export function wireguardKeys(privateKey?: string): { privateKey: string; publicKey: string } {
  const key = privateKey
    ? createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, Buffer.from(privateKey, 'base64')]), format: 'der', type: 'pkcs8' })
    : generateKeyPairSync('x25519').privateKey;
  const raw = (der: Buffer) => der.subarray(der.length - 32).toString('base64');
  return {
    privateKey: raw(key.export({ format: 'der', type: 'pkcs8' })),
    publicKey: raw(createPublicKey(key).export({ format: 'der', type: 'spki' })),
  };
}

function run(file: string, args: readonly string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: TOOL_TIMEOUT_MS, windowsHide: true, encoding: 'utf8' }, (error, _stdout, stderr) =>
      resolve(error ? `${file} ${args.join(' ')} failed: ${(stderr || error.message).trim().slice(0, 500)}` : undefined),
    );
  });
}

export function certificatePaths(root: string, profileId: string): { certificate: string; key: string } {
  const dir = join(root, LINUX_PATHS.certificates);
  return { certificate: join(dir, `custos-${profileId}.crt`), key: join(dir, `custos-${profileId}.key`) };
}

const connectionPath = (root: string, id: string) => join(root, LINUX_PATHS.connections, `custos-${id}.nmconnection`);

export class LinuxAdapter implements ProfileAdapter {
  constructor(private readonly real: boolean) {}

  async plan(profile: DeliveredProfile, context: AdapterContext): Promise<ProfilePlan> {
    const { root } = context;
    switch (profile.kind) {
      case 'wifi':
        return this.ok([{ path: connectionPath(root, profile.id), content: wifiKeyfile(profile), mode: SECRET }], ['networkmanager']);
      case 'vpn':
        return this.planVpn(profile, context);
      case 'certificate':
        return this.planCertificate(profile, context);
      case 'custom':
        if (profile.custom?.payloadType !== 'networkmanager-keyfile') {
          return {
            status: 'notApplicable',
            reason: `Linux applies networkmanager-keyfile payloads, not ${profile.custom?.payloadType ?? 'this one'}.`,
            files: [],
            activations: [],
          };
        }
        return this.ok([{ path: connectionPath(root, profile.id), content: profile.custom.content, mode: SECRET }], ['networkmanager']);
      case 'restrictions':
        // Applied together with the other restrictions profiles: see planRestrictions.
        return this.ok([], []);
    }
  }

  planRestrictions(
    restrictions: MergedRestrictions,
    profiles: readonly DeliveredProfile[],
    root: string,
  ): { files: PlannedFile[]; activations: Activation[]; outcomes: Map<string, { status: ReportedProfileStatus; reason?: string }> } {
    const content = restrictionFiles(restrictions.settings, restrictions.profileIds);
    const files: PlannedFile[] = [];
    if (content.modprobe) files.push({ path: join(root, LINUX_PATHS.modprobe), content: content.modprobe, mode: PUBLIC });
    if (content.dconf) files.push({ path: join(root, LINUX_PATHS.dconf), content: content.dconf, mode: PUBLIC });
    if (content.dconfLocks) files.push({ path: join(root, LINUX_PATHS.dconfLocks), content: content.dconfLocks, mode: PUBLIC });
    const outcomes = new Map<string, { status: ReportedProfileStatus; reason?: string }>();
    for (const id of restrictions.profileIds) {
      const own = Object.keys(profiles.find((p) => p.id === id)?.restrictions ?? {}) as RestrictionName[];
      const skipped = own.filter((s) => !LINUX_RESTRICTIONS.includes(s));
      const conflicts = restrictions.conflicts.filter((c) => c.values.some((v) => v.profileId === id));
      const notes = [
        ...(skipped.length > 0 ? [`not applicable on Linux: ${skipped.join(', ')}`] : []),
        ...(conflicts.length > 0
          ? [
              `conflicts resolved to the most restrictive value: ${conflicts.map((c) => `${c.setting}=${String(c.resolvedValue)}`).join(', ')}`,
            ]
          : []),
      ];
      outcomes.set(
        id,
        skipped.length === own.length
          ? { status: 'notApplicable', reason: `Linux cannot enforce ${own.join(', ')}.` }
          : { status: 'succeeded', ...(notes.length > 0 ? { reason: `Applied; ${notes.join('; ')}.` } : {}) },
      );
    }
    return { files, activations: content.dconf ? ['dconf'] : [], outcomes };
  }

  activate(activation: Activation): Promise<string | undefined> {
    if (!this.real) return Promise.resolve(undefined);
    const [file, args] = ACTIVATION_COMMANDS[activation];
    return run(file, args);
  }

  private ok(files: PlannedFile[], activations: Activation[]): ProfilePlan {
    return { status: 'succeeded', files, activations };
  }

  private async planVpn(profile: DeliveredProfile, context: AdapterContext): Promise<ProfilePlan> {
    const vpn = profile.vpn;
    if (vpn?.wireguard) {
      // A key the device generated stays across versions, so the server's peer entry stays valid.
      const keys = wireguardKeys(vpn.wireguard.privateKey ?? context.previous?.wireguardPrivateKey);
      return {
        ...this.ok(
          [{ path: connectionPath(context.root, profile.id), content: wireguardKeyfile(profile, keys.privateKey), mode: SECRET }],
          ['networkmanager'],
        ),
        ...(vpn.wireguard.privateKey === undefined ? { wireguardPrivateKey: keys.privateKey } : {}),
        publicKey: keys.publicKey,
      };
    }
    const openvpn = vpn?.openvpn;
    if (!openvpn)
      return { status: 'failed', reason: 'The VPN profile has neither WireGuard nor OpenVPN settings.', files: [], activations: [] };
    const caPath = join(context.root, LINUX_PATHS.certificates, `custos-${profile.id}-ca.crt`);
    let client: { certificate: string; key: string } | undefined;
    if (openvpn.clientCertificateProfileId !== undefined) {
      const certificateProfile = context.installed[openvpn.clientCertificateProfileId];
      if (certificateProfile?.status !== 'succeeded') {
        return {
          status: 'failed',
          reason: `It authenticates with client-certificate profile ${openvpn.clientCertificateProfileId}, which this device does not have installed.`,
          files: [],
          activations: [],
        };
      }
      client = certificatePaths(context.root, openvpn.clientCertificateProfileId);
    }
    return this.ok(
      [
        { path: caPath, content: ensureNewline(openvpn.ca), mode: PUBLIC },
        { path: connectionPath(context.root, profile.id), content: openvpnKeyfile(profile, { ca: caPath, ...client }), mode: SECRET },
      ],
      ['networkmanager'],
    );
  }

  private async planCertificate(profile: DeliveredProfile, context: AdapterContext): Promise<ProfilePlan> {
    const certificate = profile.certificate;
    if (certificate?.certificateType === 'trustedRoot') {
      if (!certificate.pem) return { status: 'failed', reason: 'The server sent no certificate to trust.', files: [], activations: [] };
      const path = join(context.root, LINUX_PATHS.trustAnchors, `custos-${profile.id}.crt`);
      return this.ok([{ path, content: ensureNewline(certificate.pem), mode: PUBLIC }], ['trust-store']);
    }
    // A client certificate: a new key made here, a CSR for it, the tenant CA's signature.
    const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
    const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=custos-profile',
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    });
    const issued = await context.requestCertificate(profile.id, csr.toString('pem'));
    const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
    const paths = certificatePaths(context.root, profile.id);
    return this.ok(
      [
        { path: paths.key, content: keyPem, mode: SECRET },
        { path: paths.certificate, content: ensureNewline(issued.certificate) + ensureNewline(issued.caCertificate), mode: PUBLIC },
      ],
      [],
    );
  }
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
