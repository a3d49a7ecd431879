package dev.siteward.pki.ca;

import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.IssuedCertificate;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.RevocationReason;
import java.math.BigInteger;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.List;

/** A certificate authority that issues, revokes and publishes CRLs. Implementations are thread-safe. */
public interface CertificateAuthority {

    /**
     * Checks the CSR, builds the certificate from the profile (template), signs it, re-validates the result
     * against the profile and records it durably; only then returns it.
     */
    IssuedCertificate issue(IssueRequest request) throws PkiException;

    /** Revokes one certificate by serial and regenerates the CRL. */
    RegistryEntry revoke(BigInteger serial, RevocationReason reason) throws PkiException;

    /** Revokes every unexpired, unrevoked certificate of this profile and name; returns what was revoked. */
    List<RegistryEntry> revokeAll(CertificateProfile profile, String name, RevocationReason reason)
            throws PkiException;

    /** The current CRL of the issuing CA, regenerated first when it is past half its validity. */
    X509CRL crl() throws PkiException;

    /** The CA chain above issued certificates: issuing CA, then root. */
    List<X509Certificate> caChain();

    X509Certificate root();

    String trustDomain();

    CertificateRegistry registry();
}
