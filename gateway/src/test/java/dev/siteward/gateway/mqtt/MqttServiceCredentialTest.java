package dev.siteward.gateway.mqtt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MqttServiceCredentialTest {

    @TempDir
    Path dir;

    @Test
    void theServiceCertificateIsKeptUntilTwoThirdsOfItsLifetimeThenReissuedForTheSameKey() throws Exception {
        MutableClock clock = MutableClock.atDefaultStart();
        try (TestPki pki = TestPki.create(dir, clock)) {
            pki.ca().unlock();
            MqttServiceCredential first = MqttServiceCredential.ensure(dir, pki.ca(), "gateway", clock);
            X509Certificate cert = first.chain().get(0);
            Instant start = cert.getNotBefore().toInstant();
            Duration life = Duration.between(start, cert.getNotAfter().toInstant());

            clock.advance(Duration.between(clock.instant(), start.plus(life.multipliedBy(6).dividedBy(10))));
            assertEquals(cert, MqttServiceCredential.ensure(dir, pki.ca(), "gateway", clock).chain().get(0),
                    "not due at 60%");

            clock.advance(life.dividedBy(10));
            MqttServiceCredential renewed = MqttServiceCredential.ensure(dir, pki.ca(), "gateway", clock);
            assertNotEquals(cert, renewed.chain().get(0), "re-issued at 70%");
            assertArrayEquals(first.key().getEncoded(), renewed.key().getEncoded());
            assertEquals(renewed.chain().get(0), MqttServiceCredential.ensure(dir, pki.ca(), "gateway", clock)
                    .chain().get(0), "written, so the next check keeps it");
        }
    }
}
