package dev.siteward.gateway.mqtt;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.authentication.ClientCertificateVerifier;
import dev.siteward.gateway.mqtt.TopicRights.Grant;
import dev.siteward.pki.SpiffeId;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;

/**
 * Decides every MQTT CONNECT from the client certificate and the client id — not only at the TLS handshake, so a
 * resumed TLS session or a certificate revoked since the handshake is caught. The certificate must pass the same
 * {@link ClientCertificateVerifier} as the HTTPS device listener (site CA, validity, registry revocation, device
 * suspension); the client id must be the device id of the certificate's URI SAN, or {@code service/<name>} for the
 * gateway's own service identities (a separate namespace, so no device can take over a service session).
 */
public final class MqttAdmission {

    /** Why a CONNECT was refused; each maps to an MQTT 5 CONNACK reason code. */
    public enum Refusal {
        /** No client certificate, or one that is not this site's (CONNACK 0x87 Not authorized). */
        NOT_AUTHORIZED,
        /** Revoked certificate, revoked or suspended device (CONNACK 0x8A Banned). */
        BANNED,
        /** Client id other than the certificate's identity (CONNACK 0x85 Client Identifier not valid). */
        CLIENT_ID_NOT_VALID,
        /** The device registry could not be read: fail closed (CONNACK 0x88 Server unavailable). */
        SERVER_UNAVAILABLE
    }

    /** A refused CONNECT with a message for the log and the CONNACK reason string. */
    public static final class RefusedException extends Exception {
        private final Refusal refusal;

        RefusedException(Refusal refusal, String message) {
            super(message);
            this.refusal = refusal;
        }

        public Refusal refusal() {
            return refusal;
        }
    }

    /**
     * An admitted client.
     *
     * @param id       its certificate identity
     * @param identity its key in the connection tracker ({@code device/<id>}, {@code service/<name>})
     * @param grants   its topic rights
     */
    public record Admitted(SpiffeId id, String identity, List<Grant> grants) {
    }

    private final ClientCertificateVerifier verifier;
    private final Set<String> serviceNames;

    public MqttAdmission(ClientCertificateVerifier verifier, Set<String> serviceNames) {
        this.verifier = verifier;
        this.serviceNames = Set.copyOf(serviceNames);
    }

    /** The client id a certificate identity must use. */
    public static String clientIdOf(SpiffeId id) {
        return id.kind() == SpiffeId.Kind.DEVICE ? id.name() : id.kind().segment() + "/" + id.name();
    }

    /** The connection-tracker identity of a client id, or null when the id names no Siteward identity. */
    public static String identityOfClientId(String clientId) {
        if (clientId.startsWith("service/")) {
            return clientId;
        }
        return clientId.indexOf('/') < 0 ? "device/" + clientId : null;
    }

    /** The client id of a connection-tracker identity, or null for kinds without MQTT sessions. */
    public static String clientIdOfIdentity(String identity) {
        if (identity.startsWith("device/")) {
            return identity.substring("device/".length());
        }
        return identity.startsWith("service/") ? identity : null;
    }

    /** Checks a CONNECT; returns the client's identity and rights, or throws why it is refused. */
    public Admitted admit(String clientId, X509Certificate leaf) throws RefusedException {
        if (leaf == null) {
            throw new RefusedException(Refusal.NOT_AUTHORIZED, "a client certificate from the site CA is required");
        }
        SpiffeId id;
        try {
            id = verifier.verify(leaf);
        } catch (GatewayException e) {
            Refusal r = switch (e.reason()) {
                case CERTIFICATE_REVOKED, DEVICE_SUSPENDED -> Refusal.BANNED;
                case UNAVAILABLE, INTERNAL -> Refusal.SERVER_UNAVAILABLE;
                default -> Refusal.NOT_AUTHORIZED;
            };
            throw new RefusedException(r, e.getMessage());
        }
        return admitVerified(clientId, id);
    }

    /** The identity rules for an already verified certificate identity. */
    Admitted admitVerified(String clientId, SpiffeId id) throws RefusedException {
        boolean service = id.kind() == SpiffeId.Kind.SERVICE && serviceNames.contains(id.name());
        if (id.kind() != SpiffeId.Kind.DEVICE && !service) {
            throw new RefusedException(Refusal.NOT_AUTHORIZED, id.kind().segment() + " '" + id.name()
                    + "' has no MQTT rights");
        }
        String expected = clientIdOf(id);
        if (!expected.equals(clientId)) {
            throw new RefusedException(Refusal.CLIENT_ID_NOT_VALID, "client id must be '" + expected
                    + "' (the identity in the certificate)");
        }
        return new Admitted(id, id.kind().segment() + "/" + id.name(), TopicRights.of(id, service));
    }

    /** The per-session re-check (status only: validity, revocation, suspension). */
    public void recheck(X509Certificate leaf) throws RefusedException {
        try {
            verifier.checkStatus(leaf);
        } catch (GatewayException e) {
            throw new RefusedException(e.reason() == GatewayException.Reason.UNAVAILABLE
                    ? Refusal.SERVER_UNAVAILABLE : Refusal.BANNED, e.getMessage());
        }
    }
}
