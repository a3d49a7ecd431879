package dev.siteward.device;

import dev.siteward.device.DeviceException.Reason;
import dev.siteward.device.keys.CertificationRequests;
import dev.siteward.device.keys.DeviceKeyStore;
import dev.siteward.device.keys.KeyReference;
import dev.siteward.device.keys.Pkcs11DeviceKeyStore;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.device.store.DeviceState;
import dev.siteward.device.trust.PinnedRoot;
import dev.siteward.device.trust.GatewayCrls;
import dev.siteward.device.trust.PinnedRootTrustManager;
import dev.siteward.device.trust.ProvisionalTrustManager;
import dev.siteward.device.trust.RootFingerprint;
import dev.siteward.device.trust.UntrustedChainException;
import dev.siteward.device.trust.RootAdoption;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.SpiffeId;
import dev.siteward.pki.est.EstCodec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;

/**
 * Enrolls a device with a one-time token (EST {@code simpleenroll}, RFC 7030 section 4.2.1), trusting the gateway
 * only through the pinned root fingerprint:
 * <ol>
 *   <li>Bootstrap (RFC 7030 section 4.1.1): {@code GET /.well-known/est/cacerts} with nothing secret sent. The answer
 *       must hold a self-signed root whose SHA-256 fingerprint is the pin, and the chain the server presented in
 *       that handshake must validate to that root; otherwise enrollment stops here and the token is never sent.</li>
 *   <li>From then on every connection trusts that root alone ({@link PinnedRootTrustManager}, with host name
 *       checks): {@code GET /.well-known/siteward} for the URLs, then {@code simpleenroll} with the token and a CSR
 *       for a new key. Transport failures are retried with the same token and key (the gateway answers a repeated
 *       request with the same certificate); refusals are not.</li>
 *   <li>The issued chain must be for our key, validate to the pinned root, and name a device of the site's trust
 *       domain. Then the key, the chain, the root and the URLs are committed atomically to the device directory.</li>
 * </ol>
 */
public final class EnrollmentClient {

    private final Clock clock;
    private final RetryPolicy retry;

    public EnrollmentClient(Clock clock, RetryPolicy retry) {
        this.clock = clock;
        this.retry = retry;
    }

    /**
     * Enrolls into {@code dir} (which must not hold an identity yet) with keys from {@code keys}.
     *
     * @throws DeviceException {@code UNTRUSTED_GATEWAY} when the gateway is not the pinned site, {@code REFUSED}
     *                         when the token is refused, {@code UNREACHABLE} when the gateway cannot be reached
     */
    public DeviceIdentity enroll(EnrollmentRequest request, DeviceDirectory dir, DeviceKeyStore keys)
            throws DeviceException {
        if (dir.enrolled()) {
            throw new DeviceException(Reason.ALREADY_ENROLLED, dir.path() + " already holds the identity of device '"
                    + dir.load().deviceId() + "' (use another --dir, or remove it to enroll again)");
        }
        try (AutoCloseable lock = dir.lock()) {
            return enrollLocked(request, dir, keys);
        } catch (DeviceException e) {
            throw e;
        } catch (Exception e) {
            throw new DeviceException(Reason.STORAGE, "cannot release the lock of " + dir.path(), e);
        }
    }

    private DeviceIdentity enrollLocked(EnrollmentRequest request, DeviceDirectory dir, DeviceKeyStore keys)
            throws DeviceException {
        URI gateway = request.gateway();
        PinnedRoot root = retry.run(() -> bootstrap(gateway, request.pin()));

        GatewayCrls crls = GatewayHttp.crls(gateway, root.certificate(), clock);
        crls.ensureLoaded();
        HttpClient pinned = GatewayHttp.client(null, PinnedRootTrustManager.forRoot(root.certificate(), clock)
                .withRevocation(crls));
        com.fasterxml.jackson.databind.JsonNode siteJson = GatewayHttp.json(retry.run(() -> GatewayHttp.send(pinned,
                GatewayHttp.request(gateway, "/.well-known/siteward").GET().build())));
        SiteInfo site = SiteInfo.parse(siteJson);
        RootAdoption.Offer offer;
        try {
            offer = RootAdoption.Offer.parse(siteJson);
        } catch (java.security.cert.CertificateException e) {
            throw new DeviceException(Reason.PROTOCOL, "/.well-known/siteward: unreadable root certificates", e);
        }
        // during a root rollover the pin may be the earlier root, which the gateway still lists among its roots
        if (!request.pin().toString().equals(site.rootFingerprint()) && !offer.offers(request.pin())) {
            throw new DeviceException(Reason.UNTRUSTED_GATEWAY, "the gateway names root " + site.rootFingerprint()
                    + ", not the pinned " + request.pin());
        }

        KeyPair key = keys.generate();
        // no subject: the CA names the device from the token (a CN naming another device would be refused)
        byte[] csr = CertificationRequests.create(key, null, keys.signatureProvider());
        HttpRequest enroll = GatewayHttp.request(gateway, "/.well-known/est/simpleenroll")
                .header("Content-Type", EstCodec.PKCS10)
                .header("Authorization", "Bearer " + request.token())
                .POST(HttpRequest.BodyPublishers.ofString(EstCodec.base64(csr))).build();
        List<X509Certificate> issued = GatewayHttp.certsOnly(retry.run(() -> GatewayHttp.send(pinned, enroll)));
        List<X509Certificate> chain = checkIssued(issued, key, root, site.trustDomain(), null,
                clock.instant());

        SpiffeId id = Certificates.spiffeId(chain.get(0));
        KeyReference ref = keys.store(key, chain);
        DeviceState state = new DeviceState(id.name(), id.toString(), site.trustDomain(), chain, root.certificate(),
                gateway, site.deviceUrlSeenFrom(gateway), ref,
                keys instanceof Pkcs11DeviceKeyStore p11 ? p11.config() : null, clock.instant(), null);
        // enrolled with the earlier root's pin during a rollover: move to the root it vouches for right away
        java.util.Optional<X509Certificate> newer = RootAdoption.newerRoot(root.certificate(), offer, clock.instant());
        if (newer.isPresent()) {
            state = state.withAdoptedRoot(newer.get(), clock.instant());
        }
        try {
            dir.commit(state);
        } catch (DeviceException e) {
            keys.delete(ref);
            throw e;
        }
        return new DeviceIdentity(state, key.getPrivate());
    }

    /** Step 1: the CA certificates over a provisional connection, accepted only through the pin. */
    private PinnedRoot bootstrap(URI gateway, RootFingerprint pin) throws DeviceException {
        ProvisionalTrustManager provisional = new ProvisionalTrustManager();
        HttpClient client = GatewayHttp.client(null, provisional);
        List<X509Certificate> caCerts = GatewayHttp.certsOnly(GatewayHttp.send(client,
                GatewayHttp.request(gateway, "/.well-known/est/cacerts").GET().build()));
        try {
            PinnedRoot root = PinnedRoot.select(pin, caCerts);
            root.validate(provisional.presentedChain(), PinnedRoot.Purpose.SERVER_AUTH, clock.instant());
            return root;
        } catch (UntrustedChainException e) {
            throw new DeviceException(Reason.UNTRUSTED_GATEWAY, "refusing " + GatewayHttp.hostPort(gateway) + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Checks an issued chain: for our key, validating to the pinned root for client authentication, naming a
     * device of the trust domain (and, when {@code expectedSpiffeId} is given, that identity). Returns the chain
     * without the root.
     */
    static List<X509Certificate> checkIssued(List<X509Certificate> issued, KeyPair key, PinnedRoot root,
            String trustDomain, String expectedSpiffeId, java.time.Instant at) throws DeviceException {
        if (issued.isEmpty()) {
            throw new DeviceException(Reason.PROTOCOL, "the gateway returned no certificate");
        }
        X509Certificate leaf = issued.get(0);
        if (!Arrays.equals(leaf.getPublicKey().getEncoded(), key.getPublic().getEncoded())) {
            throw new DeviceException(Reason.PROTOCOL, "the issued certificate is not for the key this device sent");
        }
        List<X509Certificate> path;
        try {
            path = root.validate(issued, PinnedRoot.Purpose.CLIENT_AUTH, at);
        } catch (UntrustedChainException e) {
            throw new DeviceException(Reason.UNTRUSTED_GATEWAY, "the issued certificate does not validate to the "
                    + "pinned root: " + e.getMessage(), e);
        }
        SpiffeId id = Certificates.spiffeId(leaf);
        if (id == null || id.kind() != SpiffeId.Kind.DEVICE || !id.trustDomain().equals(trustDomain)) {
            throw new DeviceException(Reason.PROTOCOL, "the issued certificate names no device of trust domain "
                    + trustDomain);
        }
        if (expectedSpiffeId != null && !expectedSpiffeId.equals(id.toString())) {
            throw new DeviceException(Reason.PROTOCOL, "the renewed certificate names " + id + ", not "
                    + expectedSpiffeId);
        }
        return List.copyOf(path.subList(0, path.size() - 1));
    }
}
