import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  linuxFirewallEnabled,
  nftRulesetFilters,
  parseNetshFirewallState,
  parseSocketfilterfwState,
  parseSystemctlShow,
  parseUfwConf,
  type LinuxFirewallFacts,
} from './firewall.js';

// /etc/ufw/ufw.conf as Ubuntu 22.04 ships it, after `ufw enable`.
const UFW_CONF = `# /etc/ufw/ufw.conf
#

# Set to yes to start on boot. If setting this remotely, be sure to add a rule
# to allow your remote connection before starting ufw. Eg: 'ufw allow 22/tcp'
ENABLED=yes

# Please use the 'ufw' command to set the loglevel. Eg: 'ufw logging medium'.
# See 'man ufw' for details.
LOGLEVEL=low
`;

// `nft list ruleset` with ufw enabled on Ubuntu 22.04 (iptables-nft), shortened.
const UFW_RULESET = `table ip filter {
	chain INPUT {
		type filter hook input priority filter; policy drop;
		counter packets 5012 bytes 1048201 jump ufw-before-logging-input
		counter packets 5012 bytes 1048201 jump ufw-before-input
	}

	chain FORWARD {
		type filter hook forward priority filter; policy drop;
	}

	chain ufw-before-input {
		iifname "lo" counter packets 12 bytes 600 accept
		ct state related,established counter packets 4800 bytes 1000000 accept
	}
}
`;

// `nft list ruleset` with firewalld on Fedora 39, shortened.
const FIREWALLD_RULESET = `table inet firewalld {
	chain filter_INPUT {
		type filter hook input priority filter + 10; policy accept;
		ct state { established, related } accept
		ct status dnat accept
		iifname "lo" accept
		jump filter_INPUT_ZONES
		ct state { invalid } drop
		reject with icmpx admin-prohibited
	}

	chain filter_INPUT_ZONES {
		goto filter_IN_FedoraWorkstation
	}
}
`;

// /etc/nftables.conf as Debian 12 ships it: every chain accepts.
const DEBIAN_DEFAULT_CONF = `#!/usr/sbin/nft -f

flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter;
	}
	chain forward {
		type filter hook forward priority filter;
	}
	chain output {
		type filter hook output priority filter;
	}
}
`;

// Docker's chains only: the forward hook drops, nothing filters input.
const DOCKER_RULESET = `table ip filter {
	chain DOCKER {
	}

	chain FORWARD {
		type filter hook forward priority filter; policy drop;
		counter packets 0 bytes 0 jump DOCKER-USER
	}

	chain INPUT {
		type filter hook input priority filter; policy accept;
	}
}
`;

// An input chain that accepts by policy but jumps to a chain that rejects the rest.
const JUMP_RULESET = `table inet custom {
	chain input {
		type filter hook input priority 0; policy accept;
		jump services # the allow list
	}

	chain services {
		tcp dport 22 accept
		reject with icmpx port-unreachable
	}
}
table inet other {
	chain services {
		accept
	}
}
`;

describe('Linux firewall sources', () => {
  it('reads ENABLED from ufw.conf', () => {
    assert.equal(parseUfwConf(UFW_CONF), true);
    assert.equal(parseUfwConf(UFW_CONF.replace('ENABLED=yes', 'ENABLED=no')), false);
    assert.equal(parseUfwConf('ENABLED="yes"\n'), true);
    assert.equal(parseUfwConf('# ENABLED=yes\nLOGLEVEL=low\n'), null);
  });

  it('reads systemctl show for installed and missing units', () => {
    assert.deepEqual(parseSystemctlShow('LoadState=loaded\nActiveState=active\n'), { loaded: true, active: true });
    assert.deepEqual(parseSystemctlShow('LoadState=loaded\nActiveState=inactive\n'), { loaded: true, active: false });
    assert.deepEqual(parseSystemctlShow('LoadState=not-found\nActiveState=inactive\n'), { loaded: false, active: false });
    assert.equal(parseSystemctlShow("System has not been booted with systemd as init system (PID 1). Can't operate.\n"), null);
  });

  it('finds input filtering in nftables rulesets, following jumps within a table', () => {
    assert.equal(nftRulesetFilters(UFW_RULESET), true, 'ufw: the input policy drops');
    assert.equal(nftRulesetFilters(FIREWALLD_RULESET), true, 'firewalld: the input chain rejects');
    assert.equal(nftRulesetFilters(JUMP_RULESET), true, 'a jumped-to chain rejects');
    assert.equal(nftRulesetFilters(DEBIAN_DEFAULT_CONF), false, 'accept-only chains filter nothing');
    assert.equal(nftRulesetFilters(DOCKER_RULESET), false, 'dropping forwarded traffic does not protect the host');
    assert.equal(nftRulesetFilters(''), false);
  });
});

describe('linuxFirewallEnabled', () => {
  const none: LinuxFirewallFacts = {
    ufwEnabled: null,
    firewalld: null,
    nftablesService: null,
    nftablesConf: undefined,
    ruleset: undefined,
  };
  const installedOff = { loaded: true, active: false };
  const missing = { loaded: false, active: false };

  it('is on when a front end is on or the readable ruleset filters', () => {
    assert.equal(linuxFirewallEnabled({ ...none, ufwEnabled: true }), true);
    assert.equal(linuxFirewallEnabled({ ...none, firewalld: { loaded: true, active: true } }), true);
    assert.equal(linuxFirewallEnabled({ ...none, ruleset: FIREWALLD_RULESET }), true);
    assert.equal(linuxFirewallEnabled({ ...none, nftablesService: { loaded: true, active: true }, nftablesConf: JUMP_RULESET }), true);
  });

  it('is off when the readable ruleset filters nothing, or an installed front end is off and none other runs', () => {
    assert.equal(linuxFirewallEnabled({ ...none, ufwEnabled: false, ruleset: DOCKER_RULESET }), false);
    assert.equal(linuxFirewallEnabled({ ...none, ufwEnabled: false, firewalld: missing, nftablesService: missing }), false);
    assert.equal(linuxFirewallEnabled({ ...none, firewalld: installedOff }), false);
  });

  it('is unknown when nothing it recognises is installed, or nftables.service loaded a file it cannot judge', () => {
    assert.equal(linuxFirewallEnabled(none), null);
    assert.equal(linuxFirewallEnabled({ ...none, firewalld: missing, nftablesService: missing }), null);
    assert.equal(
      linuxFirewallEnabled({ ...none, ufwEnabled: false, nftablesService: { loaded: true, active: true }, nftablesConf: undefined }),
      null,
    );
    assert.equal(
      linuxFirewallEnabled({ ...none, nftablesService: { loaded: true, active: true }, nftablesConf: DEBIAN_DEFAULT_CONF }),
      null,
      'the service ran, but what it loaded may include other files',
    );
  });
});

describe('macOS and Windows firewall output', () => {
  it('parses socketfilterfw --getglobalstate', () => {
    assert.equal(parseSocketfilterfwState('Firewall is enabled. (State = 1)\n'), true);
    assert.equal(parseSocketfilterfwState('Firewall is blocking all non-essential incoming connections. (State = 2)\n'), true);
    assert.equal(parseSocketfilterfwState('Firewall is disabled. (State = 0)\n'), false);
    assert.equal(parseSocketfilterfwState('Firewall is disabled.\n'), false);
    assert.equal(parseSocketfilterfwState(''), null);
  });

  it('parses netsh advfirewall show allprofiles state: on only when every profile is on', () => {
    const netsh = (domain: string, priv: string, pub: string) =>
      [
        '',
        'Domain Profile Settings: ',
        '----------------------------------------------------------------------',
        `State                                 ${domain}`,
        '',
        'Private Profile Settings: ',
        '----------------------------------------------------------------------',
        `State                                 ${priv}`,
        '',
        'Public Profile Settings: ',
        '----------------------------------------------------------------------',
        `State                                 ${pub}`,
        'Ok.',
        '',
      ].join('\r\n');
    assert.equal(parseNetshFirewallState(netsh('ON', 'ON', 'ON')), true);
    assert.equal(parseNetshFirewallState(netsh('ON', 'ON', 'OFF')), false);
    assert.equal(parseNetshFirewallState('The following command was not found: advfirewall show allprofiles state.'), null);
  });
});
