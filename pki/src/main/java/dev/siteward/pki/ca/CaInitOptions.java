package dev.siteward.pki.ca;

import dev.siteward.pki.KeyType;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How to create a CA.
 *
 * @param kind          site or publisher
 * @param trustDomain   the SPIFFE trust domain
 * @param keyType       p256 or p384
 * @param pkcs11Config  SunPKCS11 config file, or null for encrypted key files
 * @param crlUrl        CRL distribution point URL for issued certificates, or null for none
 * @param rootKeyOut    where to export the root key (encrypted) for offline keeping, or null to keep it
 * @param rootTtl       root CA lifetime
 * @param issuingTtl    issuing CA lifetime
 */
public record CaInitOptions(CaKind kind, String trustDomain, KeyType keyType, Path pkcs11Config, String crlUrl,
                            Path rootKeyOut, Duration rootTtl, Duration issuingTtl) {

    public static final Duration DEFAULT_ROOT_TTL = Duration.ofDays(3650);
    public static final Duration DEFAULT_ISSUING_TTL = Duration.ofDays(1095);
    public static final String DEFAULT_TRUST_DOMAIN = "site.local";

    public static CaInitOptions defaults(CaKind kind) {
        return new CaInitOptions(kind, DEFAULT_TRUST_DOMAIN, KeyType.P256, null, null, null, DEFAULT_ROOT_TTL,
                DEFAULT_ISSUING_TTL);
    }
}
