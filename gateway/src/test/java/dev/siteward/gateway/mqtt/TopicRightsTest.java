package dev.siteward.gateway.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.gateway.mqtt.MqttAdmission.Refusal;
import dev.siteward.gateway.mqtt.MqttAdmission.RefusedException;
import dev.siteward.gateway.mqtt.TopicRights.Grant;
import dev.siteward.pki.SpiffeId;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TopicRightsTest {

    private static final List<Grant> DEVICE = TopicRights.of(SpiffeId.device("site.test", "pump-7"), false);
    private static final List<Grant> GATEWAY = TopicRights.of(new SpiffeId("site.test", SpiffeId.Kind.SERVICE,
            "gateway"), true);

    @Test
    void aDevicePublishesAndSubscribesOnlyUnderItsOwnPrefix() {
        assertTrue(TopicRights.mayPublish(DEVICE, "siteward/sensors/pump-7/readings"));
        assertTrue(TopicRights.mayPublish(DEVICE, "siteward/sensors/pump-7/a/b"));
        assertTrue(TopicRights.maySubscribe(DEVICE, "siteward/sensors/pump-7/#"));
        assertTrue(TopicRights.maySubscribe(DEVICE, "siteward/sensors/pump-7/+"));
        assertFalse(TopicRights.mayPublish(DEVICE, "siteward/sensors/pump-8/readings"));
        assertFalse(TopicRights.mayPublish(DEVICE, "siteward/sensors/pump-7x/readings"));
        assertFalse(TopicRights.maySubscribe(DEVICE, "siteward/sensors/+/readings"));
        assertFalse(TopicRights.maySubscribe(DEVICE, "siteward/sensors/#"));
        assertFalse(TopicRights.maySubscribe(DEVICE, "#"));
        assertFalse(TopicRights.maySubscribe(DEVICE, "$share/siteward/siteward/sensors/pump-7/#"));
    }

    @Test
    void wildcardsInATopicNameAreNeverAPublishRight() {
        assertFalse(TopicRights.mayPublish(DEVICE, "siteward/sensors/pump-7/#"));
        assertFalse(TopicRights.mayPublish(GATEWAY, "siteward/sensors/+/inference"));
    }

    @Test
    void theGatewayServiceReadsEveryReadingOnlyThroughItsSharedGroupAndPublishesResults() {
        assertTrue(TopicRights.maySubscribe(GATEWAY, "$share/siteward/siteward/sensors/+/readings"));
        assertFalse(TopicRights.maySubscribe(GATEWAY, "siteward/sensors/+/readings"));
        assertFalse(TopicRights.maySubscribe(GATEWAY, "$share/other/siteward/sensors/+/readings"));
        assertFalse(TopicRights.maySubscribe(GATEWAY, "$share/siteward/siteward/sensors/#"));
        assertTrue(TopicRights.mayPublish(GATEWAY, "siteward/sensors/pump-7/inference"));
        assertTrue(TopicRights.mayPublish(GATEWAY, "siteward/sensors/pump-7/errors"));
        assertFalse(TopicRights.mayPublish(GATEWAY, "siteward/other"));
    }

    @Test
    void adminsAndPublishersHaveNoMqttRights() {
        assertTrue(TopicRights.of(new SpiffeId("site.test", SpiffeId.Kind.ADMIN, "ops"), false).isEmpty());
        assertTrue(TopicRights.of(new SpiffeId("site.test", SpiffeId.Kind.SERVICE, "other"), false).isEmpty());
    }

    @Test
    void theClientIdMustBeTheDeviceIdOrTheServicesOwnName() throws Exception {
        MqttAdmission admission = new MqttAdmission(null, Set.of("gateway"));
        assertEquals("device/pump-7", admission.admitVerified("pump-7", SpiffeId.device("site.test", "pump-7"))
                .identity());
        RefusedException wrong = assertThrows(RefusedException.class,
                () -> admission.admitVerified("pump-8", SpiffeId.device("site.test", "pump-7")));
        assertEquals(Refusal.CLIENT_ID_NOT_VALID, wrong.refusal());
        SpiffeId gw = new SpiffeId("site.test", SpiffeId.Kind.SERVICE, "gateway");
        assertEquals(GATEWAY, admission.admitVerified("service/gateway", gw).grants());
        // a service uses its own client-id namespace, so a device named like it cannot take its session over
        assertThrows(RefusedException.class, () -> admission.admitVerified("gateway", gw));
        RefusedException stranger = assertThrows(RefusedException.class, () -> admission.admitVerified(
                "service/billing", new SpiffeId("site.test", SpiffeId.Kind.SERVICE, "billing")));
        assertEquals(Refusal.NOT_AUTHORIZED, stranger.refusal());
    }

    @Test
    void trackerIdentitiesMapToClientIds() {
        assertEquals("pump-7", MqttAdmission.clientIdOfIdentity("device/pump-7"));
        assertEquals("service/gateway", MqttAdmission.clientIdOfIdentity("service/gateway"));
        assertEquals(null, MqttAdmission.clientIdOfIdentity("admin/ops"));
    }
}
