package dev.siteward.gateway.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.pki.testkit.MutableClock;
import io.micronaut.context.exceptions.ConfigurationException;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DeviceQuotasTest {

    private final MutableClock clock = MutableClock.atDefaultStart();
    private final LimitCounters counters = new LimitCounters();

    private static LimitsConfiguration config() {
        LimitsConfiguration c = new LimitsConfiguration();
        c.setDeviceRequestsPerSecond(2);
        c.setDeviceRequestBurst(3);
        c.setDeviceUploadBytesPerSecond(512 * 1024);
        c.setDeviceUploadBurstBytes(2L << 20);
        c.setMqttMessagesPerSecond(10);
        c.setMqttMessageBurst(5);
        return c;
    }

    @Test
    void requestRateIsHitAfterTheBurstAdvisesRetryAfterAndRecoversWithTime() {
        DeviceQuotas quotas = new DeviceQuotas(config(), counters, clock);
        for (int i = 0; i < 3; i++) {
            assertTrue(quotas.admitRequest("pump-1", 0).isEmpty(), "request " + i + " within the burst");
        }
        Optional<DeviceQuotas.Refusal> refused = quotas.admitRequest("pump-1", 0);
        assertTrue(refused.isPresent());
        assertEquals(LimitCounters.DEVICE_REQUESTS, refused.get().limit());
        assertEquals(1, refused.get().retryAfterSeconds());
        assertTrue(quotas.admitRequest("pump-2", 0).isEmpty(), "another device has its own quota");
        assertEquals(1L, counters.refusals().get(LimitCounters.DEVICE_REQUESTS));

        clock.advance(Duration.ofMillis(500));
        assertTrue(quotas.admitRequest("pump-1", 0).isEmpty(), "one request back after 1/rate");
        assertTrue(quotas.admitRequest("pump-1", 0).isPresent());
        clock.advance(Duration.ofSeconds(10));
        for (int i = 0; i < 3; i++) {
            assertTrue(quotas.admitRequest("pump-1", 0).isEmpty(), "full burst again after idling");
        }
        assertEquals(2L, counters.refusals().get(LimitCounters.DEVICE_REQUESTS));
    }

    @Test
    void uploadBytesAreChargedByBodySizeAndARefusedUploadCostsNoRequestToken() {
        DeviceQuotas quotas = new DeviceQuotas(config(), counters, clock);
        assertTrue(quotas.admitRequest("cam-1", 1L << 20).isEmpty());
        assertTrue(quotas.admitRequest("cam-1", 1L << 20).isEmpty());
        Optional<DeviceQuotas.Refusal> refused = quotas.admitRequest("cam-1", 1L << 20);
        assertTrue(refused.isPresent(), "2 MiB burst used up");
        assertEquals(LimitCounters.DEVICE_UPLOADS, refused.get().limit());
        assertEquals(2, refused.get().retryAfterSeconds(), "1 MiB at 512 KiB/s");
        assertTrue(quotas.admitRequest("cam-1", 0).isEmpty(), "a bodiless request still has a request token");
        assertEquals(1L, counters.refusals().get(LimitCounters.DEVICE_UPLOADS));
        assertEquals(1L << 20, counters.refusedUploadBytes());

        clock.advance(Duration.ofSeconds(2));
        assertTrue(quotas.admitRequest("cam-1", 1L << 20).isEmpty(), "recovered after the advised wait");
    }

    @Test
    void aRequestRefusedByTheRateGivesItsUploadBytesBack() {
        LimitsConfiguration c = config();
        c.setDeviceRequestBurst(1);
        DeviceQuotas quotas = new DeviceQuotas(c, counters, clock);
        assertTrue(quotas.admitRequest("cam-1", 1L << 20).isEmpty());
        assertTrue(quotas.admitRequest("cam-1", 1L << 20).isPresent(), "request rate");
        clock.advance(Duration.ofMillis(500));
        assertTrue(quotas.admitRequest("cam-1", 1L << 20).isEmpty(), "the refused request's bytes were refunded");
    }

    @Test
    void mqttMessageRateIsHitAndRecovers() {
        DeviceQuotas quotas = new DeviceQuotas(config(), counters, clock);
        for (int i = 0; i < 5; i++) {
            assertTrue(quotas.admitMqttMessage("sensor-1").isEmpty());
        }
        Optional<DeviceQuotas.Refusal> refused = quotas.admitMqttMessage("sensor-1");
        assertTrue(refused.isPresent());
        assertEquals(LimitCounters.MQTT_MESSAGES, refused.get().limit());
        assertEquals(1L, counters.refusals().get(LimitCounters.MQTT_MESSAGES));
        assertTrue(quotas.admitRequest("sensor-1", 0).isEmpty(), "HTTP and MQTT quotas are separate");
        clock.advance(Duration.ofMillis(100));
        assertTrue(quotas.admitMqttMessage("sensor-1").isEmpty());
    }

    @Test
    void disabledLimitsAdmitEverything() {
        LimitsConfiguration c = config();
        c.setEnabled(false);
        DeviceQuotas quotas = new DeviceQuotas(c, counters, clock);
        for (int i = 0; i < 100; i++) {
            assertTrue(quotas.admitRequest("pump-1", 1L << 20).isEmpty());
            assertTrue(quotas.admitMqttMessage("pump-1").isEmpty());
        }
    }

    @Test
    void settingsThatCouldNeverAdmitTheLargestBodyOrNoRequestAtAllRefuseStartUp() {
        LimitsConfiguration small = config();
        small.setDeviceUploadBurstBytes(1000);
        assertThrows(ConfigurationException.class, () -> new DeviceQuotas(small, counters, clock));
        LimitsConfiguration zero = config();
        zero.setDeviceRequestsPerSecond(0);
        assertThrows(ConfigurationException.class, () -> new DeviceQuotas(zero, counters, clock));
        LimitsConfiguration noMqtt = config();
        noMqtt.setMqttMessageBurst(0);
        assertThrows(ConfigurationException.class, () -> new DeviceQuotas(noMqtt, counters, clock));
    }
}
