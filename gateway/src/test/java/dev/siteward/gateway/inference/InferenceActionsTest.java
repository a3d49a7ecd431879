package dev.siteward.gateway.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.siteward.gateway.audit.AuditEvent;
import dev.siteward.gateway.models.ReleaseTargets;
import dev.siteward.pki.testkit.MutableClock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An alarm's action request (policy decision, audit record and its fsync) runs off the batcher thread: readings
 * batched after it are answered while it is still being audited, and every request is audited once, in order.
 * Decisions are numpy's (vectors/vibration-shadow.json, the active v1 column).
 */
class InferenceActionsTest {

    @Test
    void aSlowAuditOfAnActionDoesNotHoldUpTheReadingsBehindIt() throws Exception {
        JsonNode v = DemoModels.vectors("vibration-shadow");
        int n = v.get("features").size();
        // the index of the first reading whose decision starts an alarm, and how many alarms start in all
        int firstAlarm = -1;
        int alarmStarts = 0;
        String prev = "normal";
        for (int i = 0; i < n; i++) {
            String d = v.at("/active/decisions/" + i).asText();
            if (d.equals("alarm") && prev.equals("normal")) {
                alarmStarts++;
                if (firstAlarm < 0) {
                    firstAlarm = i;
                }
            }
            prev = d;
        }
        assertTrue(firstAlarm >= 0 && firstAlarm < n - 1, "the vectors start an alarm before their last reading");
        CountDownLatch auditorHeld = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<AuditEvent> audited = new CopyOnWriteArrayList<>();
        InferenceService service = new InferenceService(device -> List.of(new ReleaseTargets.Target(
                "demo/vibration", 1, "stable", null, "x", 0, List.of(), List.of())),
                (model, version) -> DemoModels.load("vibration-v1", model, version), null, event -> {
                    if (event.type().equals(AuditEvent.ACTION_DECISION)) {
                        auditorHeld.countDown();
                        try {
                            release.await(30, TimeUnit.SECONDS); // a disk that takes its time over the fsync
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    audited.add(event);
                }, "gateway", new DynamicBatcher.Settings(32, 500, 4096, 4096), new InferenceMetrics(),
                MutableClock.atSystemTime());
        try {
            String ts = Instant.now().toString();
            LinkedBlockingQueue<InferenceService.Outcome> answers = new LinkedBlockingQueue<>();
            for (int i = 0; i <= firstAlarm; i++) {
                service.submit("sensor-1", new InferenceService.Reading(i, ts, DemoModels.row(v.get("features"), i),
                        null), answers::add);
                assertNotNull(answers.poll(10, TimeUnit.SECONDS), "reading " + i + " answered");
            }
            assertTrue(auditorHeld.await(10, TimeUnit.SECONDS), "the alarm's action request reached the audit log");
            // the audit of that request is stuck: every later reading is still answered, with numpy's decision
            for (int i = firstAlarm + 1; i < n; i++) {
                service.submit("sensor-1", new InferenceService.Reading(i, ts, DemoModels.row(v.get("features"), i),
                        null), answers::add);
                InferenceService.Outcome o = answers.poll(10, TimeUnit.SECONDS);
                assertNotNull(o, "reading " + i + " answered while an action is being audited");
                assertEquals(v.at("/active/decisions/" + i).asText(), o.result().decision());
            }
            assertTrue(audited.stream().noneMatch(e -> e.type().equals(AuditEvent.ACTION_DECISION)),
                    "nothing audited yet: the first request is still held");
            release.countDown();
            assertTrue(service.awaitActions(10, TimeUnit.SECONDS));
            List<AuditEvent> decisions = audited.stream()
                    .filter(e -> e.type().equals(AuditEvent.ACTION_DECISION)).toList();
            assertEquals(alarmStarts, decisions.size(), "one request per alarm start, none lost");
            long lastSeq = -1;
            for (AuditEvent e : decisions) {
                long seq = ((Number) e.details().get("seq")).longValue();
                assertTrue(seq > lastSeq, "audited in the order the alarms started");
                lastSeq = seq;
                assertEquals("deny", e.details().get("effect"), "no policy engine: deny by default");
            }
        } finally {
            release.countDown();
            service.close();
        }
    }
}
