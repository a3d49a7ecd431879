package dev.siteward.gateway.mqtt;

import com.hivemq.extension.sdk.api.ExtensionMain;
import com.hivemq.extension.sdk.api.auth.SimpleAuthenticator;
import com.hivemq.extension.sdk.api.auth.parameter.SimpleAuthInput;
import com.hivemq.extension.sdk.api.auth.parameter.SimpleAuthOutput;
import com.hivemq.extension.sdk.api.auth.parameter.TopicPermission;
import com.hivemq.extension.sdk.api.client.parameter.ClientTlsInformation;
import com.hivemq.extension.sdk.api.packets.auth.DefaultAuthorizationBehaviour;
import com.hivemq.extension.sdk.api.packets.auth.ModifiableDefaultPermissions;
import com.hivemq.extension.sdk.api.packets.connect.ConnackReasonCode;
import com.hivemq.extension.sdk.api.packets.disconnect.DisconnectReasonCode;
import com.hivemq.extension.sdk.api.packets.publish.AckReasonCode;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartOutput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopOutput;
import com.hivemq.extension.sdk.api.services.Services;
import com.hivemq.extension.sdk.api.services.builder.Builders;
import dev.siteward.gateway.limits.DeviceQuotas;
import dev.siteward.gateway.mqtt.MqttAdmission.Admitted;
import dev.siteward.gateway.mqtt.MqttAdmission.RefusedException;
import dev.siteward.gateway.mqtt.TopicRights.Grant;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded broker's security, as a HiveMQ extension that is compiled in (never loaded from disk): every CONNECT
 * goes through {@link MqttAdmission} (certificate, revocation, suspension, client id), and an admitted client gets
 * its {@link TopicRights} as the connection's default permissions with everything else denied. HiveMQ then refuses
 * a subscription outside them (SUBACK 0x87) and answers a publish outside them with PUBACK 0x87 and a disconnect.
 * {@link #disconnect} ends a live session at once; because a CONNECT admitted just before a revocation may become
 * a live session a moment after it, the disconnect is repeated after {@value #RETRY_MS} ms. With {@link DeviceQuotas},
 * a device's PUBLISH over its message rate is dropped and answered (QoS 1/2) with reason code 0x97 Quota exceeded —
 * the client stays connected; a QoS 0 message over the rate is dropped silently, as MQTT 5 has no reply for it.
 */
public final class BrokerSecurityExtension implements ExtensionMain {

    private static final Logger LOG = LoggerFactory.getLogger(BrokerSecurityExtension.class);
    static final long RETRY_MS = 300;

    private final MqttAdmission admission;
    private final DeviceQuotas quotas;
    private volatile boolean started;

    public BrokerSecurityExtension(MqttAdmission admission) {
        this(admission, null);
    }

    /** With {@code quotas} (may be null: no message rate limit). */
    public BrokerSecurityExtension(MqttAdmission admission, DeviceQuotas quotas) {
        this.admission = admission;
        this.quotas = quotas;
    }

    @Override
    public void extensionStart(ExtensionStartInput input, ExtensionStartOutput output) {
        Services.securityRegistry().setAuthenticatorProvider(providerInput -> (SimpleAuthenticator) this::onConnect);
        if (quotas != null && quotas.enabled()) {
            Services.initializerRegistry().setClientInitializer((initInput, context) ->
                    context.addPublishInboundInterceptor((in, out) -> {
                        String clientId = in.getClientInformation().getClientId();
                        // device client ids are the device name; services ("service/<name>") are not limited
                        if (clientId.indexOf('/') < 0) {
                            quotas.admitMqttMessage(clientId).ifPresent(r ->
                                    out.preventPublishDelivery(AckReasonCode.QUOTA_EXCEEDED, r.message()));
                        }
                    }));
        }
        started = true;
    }

    @Override
    public void extensionStop(ExtensionStopInput input, ExtensionStopOutput output) {
        started = false;
    }

    boolean started() {
        return started;
    }

    private void onConnect(SimpleAuthInput input, SimpleAuthOutput output) {
        String clientId = input.getClientInformation().getClientId();
        X509Certificate leaf = input.getConnectionInformation().getClientTlsInformation()
                .flatMap(ClientTlsInformation::getClientCertificate).orElse(null);
        Admitted admitted;
        try {
            admitted = admission.admit(clientId, leaf);
        } catch (RefusedException e) {
            LOG.info("MQTT CONNECT refused for client id '{}' from {}: {}", clientId,
                    input.getConnectionInformation().getInetAddress().map(Object::toString).orElse("?"),
                    e.getMessage());
            output.failAuthentication(switch (e.refusal()) {
                case BANNED -> ConnackReasonCode.BANNED;
                case CLIENT_ID_NOT_VALID -> ConnackReasonCode.CLIENT_IDENTIFIER_NOT_VALID;
                case SERVER_UNAVAILABLE -> ConnackReasonCode.SERVER_UNAVAILABLE;
                case NOT_AUTHORIZED -> ConnackReasonCode.NOT_AUTHORIZED;
            }, e.getMessage());
            return;
        } catch (RuntimeException e) {
            LOG.warn("MQTT CONNECT check failed for client id '{}'", clientId, e);
            output.failAuthentication(ConnackReasonCode.SERVER_UNAVAILABLE, "identity check failed");
            return;
        }
        ModifiableDefaultPermissions permissions = output.getDefaultPermissions();
        permissions.clear();
        for (Grant g : admitted.grants()) {
            permissions.add(permission(g));
        }
        permissions.setDefaultBehaviour(DefaultAuthorizationBehaviour.DENY);
        output.authenticateSuccessfully();
    }

    static TopicPermission permission(Grant g) {
        var b = Builders.topicPermission().topicFilter(g.topicFilter()).type(TopicPermission.PermissionType.ALLOW)
                .activity(switch (g.activity()) {
                    case PUBLISH -> TopicPermission.MqttActivity.PUBLISH;
                    case SUBSCRIBE -> TopicPermission.MqttActivity.SUBSCRIBE;
                    case ALL -> TopicPermission.MqttActivity.ALL;
                });
        if (g.sharedGroup() != null) {
            b.sharedSubscription(TopicPermission.SharedSubscription.SHARED).sharedGroup(g.sharedGroup());
        } else {
            b.sharedSubscription(TopicPermission.SharedSubscription.NOT_SHARED);
        }
        return b.build();
    }

    /** Ends the client's session now and once more after {@value #RETRY_MS} ms; never blocks. */
    void disconnect(String clientId, String reason) {
        if (!started) {
            return;
        }
        kick(clientId, reason);
        Services.extensionExecutorService().schedule(() -> kick(clientId, reason), RETRY_MS, TimeUnit.MILLISECONDS);
    }

    private static void kick(String clientId, String reason) {
        Services.clientService().disconnectClient(clientId, false, DisconnectReasonCode.NOT_AUTHORIZED, reason)
                .whenComplete((done, err) -> {
                    if (err != null) {
                        LOG.warn("could not disconnect MQTT client '{}': {}", clientId, err.toString());
                    } else if (Boolean.TRUE.equals(done)) {
                        LOG.info("disconnected MQTT client '{}': {}", clientId, reason);
                    }
                });
    }
}
