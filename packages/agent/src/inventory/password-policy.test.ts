import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  accountsRequirePassword,
  collectLinuxPasswordState,
  loginDefsUidMin,
  parseNetAccounts,
  parsePwpolicy,
  parsePwqualityConf,
  pwqualityPamArguments,
  pwqualityPolicy,
} from './password-policy.js';

// /etc/pam.d/common-password on Ubuntu 22.04 with libpam-pwquality installed.
const UBUNTU_COMMON_PASSWORD = `#
# /etc/pam.d/common-password - password-related modules common to all services
#
# here are the per-package modules (the "Primary" block)
password	requisite			pam_pwquality.so retry=3
password	[success=1 default=ignore]	pam_unix.so obscure use_authtok try_first_pass yescrypt
# here's the fallback if no module succeeds
password	requisite			pam_deny.so
password	required			pam_permit.so
# end of pam-auth-update config
`;

// /etc/pam.d/system-auth on Fedora 39 (authselect), password lines.
const FEDORA_SYSTEM_AUTH = `auth        required                                     pam_env.so
password    requisite                                    pam_pwquality.so local_users_only minlen=12 dcredit=-1 ucredit=-1 ocredit=-1
password    sufficient                                   pam_unix.so yescrypt shadow use_authtok
password    required                                     pam_deny.so
`;

// Debian 12 without libpam-pwquality: pam_unix only.
const DEBIAN_COMMON_PASSWORD = `password	[success=1 default=ignore]	pam_unix.so obscure yescrypt
password	requisite			pam_deny.so
# password	requisite			pam_pwquality.so retry=3
`;

const PWQUALITY_CONF = `# Configuration for systemwide password quality limits
# Defaults:
#
# minlen = 8
# dcredit = 0
minlen = 10
minclass = 3
`;

describe('pam_pwquality', () => {
  it('finds the active pam_pwquality line and its arguments', () => {
    assert.deepEqual(pwqualityPamArguments(UBUNTU_COMMON_PASSWORD), {});
    assert.deepEqual(pwqualityPamArguments(FEDORA_SYSTEM_AUTH), { minlen: 12, dcredit: -1, ucredit: -1, ocredit: -1 });
    assert.equal(pwqualityPamArguments(DEBIAN_COMMON_PASSWORD), undefined, 'a commented-out line does not count');
  });

  it('reads pwquality.conf, ignoring comments', () => {
    assert.deepEqual(parsePwqualityConf(PWQUALITY_CONF), { minlen: 10, minclass: 3 });
  });

  it('turns settings into the shortest accepted length and a type', () => {
    assert.deepEqual(pwqualityPolicy({}), { passwordMinimumLength: 8, passwordType: 'numeric' }, 'the defaults');
    assert.deepEqual(pwqualityPolicy({ minlen: 10, minclass: 3 }), { passwordMinimumLength: 10, passwordType: 'complex' });
    assert.deepEqual(pwqualityPolicy({ minlen: 12, dcredit: -1, lcredit: -1 }), {
      passwordMinimumLength: 12,
      passwordType: 'alphanumeric',
    });
    assert.deepEqual(
      pwqualityPolicy({ minlen: 9, dcredit: 1, ucredit: 1 }),
      { passwordMinimumLength: 7, passwordType: 'numeric' },
      'credits shorten',
    );
    assert.deepEqual(pwqualityPolicy({ minlen: 4 }), { passwordMinimumLength: 6, passwordType: 'numeric' }, "pwquality's floor");
  });
});

describe('accounts from /etc/passwd and /etc/shadow', () => {
  const PASSWD = [
    'root:x:0:0:root:/root:/bin/bash',
    'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
    'jdoe:x:1000:1000:J Doe,,,:/home/jdoe:/bin/bash',
    'ana:x:1001:1001::/home/ana:/bin/zsh',
    'svc:x:1002:1002::/srv:/usr/sbin/nologin',
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
  ].join('\n');
  const shadow = (jdoe: string, ana: string) =>
    [
      'root:!:19700:0:99999:7:::',
      'daemon:*:19700:0:99999:7:::',
      `jdoe:${jdoe}:19700:0:99999:7:::`,
      `ana:${ana}:19700:0:99999:7:::`,
      'svc::19700::::::',
    ].join('\n');

  it('requires a password when every person has one or is locked; not when one has an empty field', () => {
    assert.equal(accountsRequirePassword(PASSWD, shadow('$y$j9T$abc$def', '$6$salt$hash')), true);
    assert.equal(accountsRequirePassword(PASSWD, shadow('$y$j9T$abc$def', '!')), true, 'a locked account cannot sign in with a password');
    assert.equal(accountsRequirePassword(PASSWD, shadow('$y$j9T$abc$def', '')), false);
    const openRoot = shadow('$y$j9T$abc$def', '!').replace('root:!:', 'root::');
    assert.equal(accountsRequirePassword(PASSWD, openRoot), false, 'root without a password signs in without one');
  });

  it('is unknown without any person account, or when shadow lacks one', () => {
    assert.equal(accountsRequirePassword('daemon:x:1:1::/:/usr/sbin/nologin\n', 'daemon:*:1::::::\n'), null);
    assert.equal(accountsRequirePassword(PASSWD, 'jdoe:$6$x:1::::::\n'), null);
  });

  it('takes UID_MIN from login.defs', () => {
    assert.equal(loginDefsUidMin('#UID_MIN 500\nUID_MIN\t\t\t 1000\n'), 1000);
    assert.equal(loginDefsUidMin('UID_MIN 500\n'), 500);
    assert.equal(loginDefsUidMin(''), 1000);
  });
});

describe('collectLinuxPasswordState', async () => {
  const root = await mkdtemp(join(tmpdir(), 'custos-password-'));
  after(() => rm(root, { recursive: true, force: true }));
  const write = async (path: string, content: string) => {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  };

  it('combines the PAM arguments over pwquality.conf and its drop-ins; no shadow, no passwordRequired', async () => {
    await write('etc/pam.d/common-password', UBUNTU_COMMON_PASSWORD.replace('retry=3', 'retry=3 minlen=14'));
    await write('etc/security/pwquality.conf', PWQUALITY_CONF);
    await write('etc/security/pwquality.conf.d/10-site.conf', 'minclass = 2\n');
    await write('etc/passwd', 'jdoe:x:1000:1000::/home/jdoe:/bin/bash\n');
    assert.deepEqual(await collectLinuxPasswordState(root), {
      passwordRequired: null,
      passwordMinimumLength: 14,
      passwordType: 'alphanumeric',
    });
    await write('etc/shadow', 'jdoe:$y$j9T$abc$def:19700:0:99999:7:::\n');
    assert.equal((await collectLinuxPasswordState(root)).passwordRequired, true);
  });

  it('reports no policy when the PAM stack does not use pam_pwquality', async () => {
    const bare = await mkdtemp(join(root, 'bare-'));
    await mkdir(join(bare, 'etc/pam.d'), { recursive: true });
    await writeFile(join(bare, 'etc/pam.d/common-password'), DEBIAN_COMMON_PASSWORD);
    assert.deepEqual(await collectLinuxPasswordState(bare), { passwordRequired: null, passwordMinimumLength: null, passwordType: null });
  });
});

// `pwpolicy -getaccountpolicies` on macOS 14 with a minimum length, a letter and a digit required.
const PWPOLICY = `Getting global account policies
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>policyCategoryPasswordContent</key>
	<array>
		<dict>
			<key>policyContent</key>
			<string>policyAttributePassword matches '.{10,}+'</string>
			<key>policyIdentifier</key>
			<string>com.apple.policy.legacy.minChars</string>
			<key>policyParameters</key>
			<dict>
				<key>minimumLength</key>
				<integer>10</integer>
			</dict>
		</dict>
		<dict>
			<key>policyContent</key>
			<string>policyAttributePassword matches '(.*[A-Za-z].*){1,}+'</string>
			<key>policyIdentifier</key>
			<string>com.apple.policy.legacy.requiresAlpha</string>
		</dict>
		<dict>
			<key>policyContent</key>
			<string>policyAttributePassword matches '(.*[0-9].*){1,}+'</string>
			<key>policyIdentifier</key>
			<string>com.apple.policy.legacy.requiresNumeric</string>
		</dict>
	</array>
</dict>
</plist>
`;

describe('macOS and Windows password policy output', () => {
  it('parses pwpolicy -getaccountpolicies', () => {
    assert.deepEqual(parsePwpolicy(PWPOLICY), { passwordMinimumLength: 10, passwordType: 'alphanumeric' });
    const withSymbol = PWPOLICY.replace(
      'com.apple.policy.legacy.requiresNumeric',
      'com.apple.policy.legacy.requiresNumeric</string><string>com.apple.policy.legacy.requiresSymbol',
    );
    assert.equal(parsePwpolicy(withSymbol).passwordType, 'complex');
    const empty = 'Getting global account policies\n<?xml version="1.0"?>\n<plist version="1.0">\n<dict/>\n</plist>\n';
    assert.deepEqual(parsePwpolicy(empty), { passwordMinimumLength: null, passwordType: null }, 'no rule: macOS built-ins apply');
    assert.deepEqual(parsePwpolicy('pwpolicy: command not found'), { passwordMinimumLength: null, passwordType: null });
  });

  it('parses net accounts', () => {
    const output = [
      'Force user logoff how long after time expires?:       Never',
      'Minimum password age (days):                          0',
      'Maximum password age (days):                          42',
      'Minimum password length:                              12',
      'Length of password history maintained:                None',
      'The command completed successfully.',
      '',
    ].join('\r\n');
    assert.equal(parseNetAccounts(output), 12);
    assert.equal(parseNetAccounts(output.replace(':                              12', ':                              0')), 0);
    assert.equal(parseNetAccounts('System error 5 has occurred.'), null);
  });
});
