/** Admin API schemas of Apple MDM (SPEC §7): the tenant's APNs push certificate. */
import { Type, type Static } from 'typebox';

export const ApplePushCertificateUploadSchema = Type.Object(
  {
    /** The MDM push certificate from Apple (PEM); its subject UID is the push topic. */
    certificatePem: Type.String({ minLength: 1, maxLength: 20_000 }),
    /** The private key of the certificate signing request sent to Apple (PEM, PKCS#8 or PKCS#1). */
    privateKeyPem: Type.String({ minLength: 1, maxLength: 20_000 }),
  },
  { additionalProperties: false },
);
export type ApplePushCertificateUpload = Static<typeof ApplePushCertificateUploadSchema>;

export const ApplePushCertificateSchema = Type.Object({
  topic: Type.String(),
  notAfter: Type.String({ format: 'date-time' }),
  uploadedAt: Type.String({ format: 'date-time' }),
});
export type ApplePushCertificate = Static<typeof ApplePushCertificateSchema>;
