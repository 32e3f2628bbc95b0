/**
 * @peculiar/x509, ready to use: its dependency injection (tsyringe) needs the Reflect metadata API
 * loaded before it, and it needs a WebCrypto implementation. Import x509 from here, never directly.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

export { x509 };
