package dev.siteward.pki.ca;

import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.RevocationReason;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The durable record of every certificate a CA issued and every revocation. {@link #record} returns only once the
 * entry is durable, so a crash never leaves a handed-out certificate that is not recorded.
 */
public interface CertificateRegistry extends AutoCloseable {

    /** True when this serial was ever issued or reserved: serials are unique across everything issued. */
    boolean serialTaken(BigInteger serial);

    /** Reserves a serial for an issuance in progress; false when it is taken already. */
    boolean reserveSerial(BigInteger serial);

    /** Releases a reservation whose issuance failed before it was recorded. */
    void releaseSerial(BigInteger serial);

    /** Durably records an issued certificate. */
    void record(RegistryEntry entry) throws PkiException;

    /** Durably records a revocation; returns the updated entry. */
    RegistryEntry revoke(BigInteger serial, RevocationReason reason, Instant at) throws PkiException;

    Optional<RegistryEntry> find(BigInteger serial);

    /** Every certificate of this profile and name, oldest first. */
    List<RegistryEntry> findByName(CertificateProfile profile, String name);

    /** Every certificate of this profile, oldest first (for expiry reports). */
    List<RegistryEntry> findByProfile(CertificateProfile profile);

    /** Every revoked certificate, for the CRL. */
    List<RegistryEntry> revoked();

    /** Number of certificates recorded. */
    int size();

    @Override
    void close() throws PkiException;
}
