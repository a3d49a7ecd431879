package dev.siteward.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.siteward.device.sensors.SensorClient;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SensorClientTest {

    @TempDir
    Path tmp;

    @Test
    void whileTheGatewayIsUnreachableReadingsQueueOnDiskAndTheOldestAreDroppedAndCounted() throws Exception {
        try (TestPki pki = TestPki.create(tmp.resolve("ca"), MutableClock.atDefaultStart())) {
            DeviceIdentity id = TestDevices.enrolled(pki, new DeviceDirectory(tmp.resolve("dev")), "vib-9");
            int closedPort;
            try (ServerSocket s = new ServerSocket(0)) {
                closedPort = s.getLocalPort();
            }
            Path queue = tmp.resolve("queue");
            try (SensorClient c = new SensorClient(id, "ssl://127.0.0.1:" + closedPort, queue, 5,
                    Duration.ofSeconds(10), pki.clock(), (k, v) -> { })) {
                c.start();
                for (long seq = 0; seq < 10; seq++) {
                    c.send(seq, new double[] {seq, 1.5});
                }
                assertFalse(c.connected());
                assertEquals(5, c.dropped());
                assertEquals(List.of(5L, 6L, 7L, 8L, 9L), c.queuedSeqs());
            }
            // the queue survives the client: a new one (after a restart) finds the same readings
            try (SensorClient again = new SensorClient(id, "ssl://127.0.0.1:" + closedPort, queue, 5,
                    Duration.ofSeconds(10), pki.clock(), (k, v) -> { })) {
                assertEquals(5, again.queued());
            }
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(queue)));
            String first = Files.readString(queue.resolve(String.format("%020d.json", 5)));
            assertEquals("{\"seq\":5,\"ts\":\"" + pki.clock().instant() + "\",\"features\":[5.0,1.5]}", first);
        }
    }
}
