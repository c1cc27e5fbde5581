package org.tensorflow;

import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteDeviceList;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListCount;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListName;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SessionListDevices;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetConfig;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetRequestedDevice;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetTarget;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.tensorflow.internal.c_api.TF_DeviceList;
import org.tensorflow.internal.c_api.TF_Session;
import org.tensorflow.internal.c_api.TF_SessionOptions;
import org.tensorflow.internal.c_api.TF_Status;
import org.tensorflow.proto.ConfigProto;

/**
 * Three things TensorFlow's C API offers that TensorFlow Java 1.0.0 does not expose, and that genzoo's scaling needs.
 * It lives in package {@code org.tensorflow} because it uses that package's internals (the graph's native handle and
 * the session constructor that adopts a native session); nothing else of genzoo does.
 *
 * <ul>
 *   <li>{@link #openSession}: a session on a target, {@code grpc://host:port} for TensorFlow's distributed runtime
 *       ({@code TF_SetTarget}); {@code new Session(graph, config)} always runs in-process.
 *   <li>{@link #setDevice}: the requested device of an existing operation ({@code TF_SetRequestedDevice}), for the
 *       ops {@code TF_AddGradients} creates, which take no device from any scope: without it every tower's backward
 *       pass would run on the default device.
 *   <li>{@link #devices}: the devices a session can place ops on ({@code TF_SessionListDevices}).
 * </ul>
 */
public final class GenzooBridge {
  private GenzooBridge() {}

  /**
   * A session of {@code graph} on {@code target} ("" or null: in-process), configured by {@code config}. Like genzoo's
   * other sessions it does not track TensorFlow Java's automatic initialisers: genzoo runs its own.
   */
  public static Session openSession(Graph graph, String target, ConfigProto config) {
    try (PointerScope scope = new PointerScope(); Graph.Reference ref = graph.ref()) {
      TF_Status status = TF_Status.newStatus();
      TF_SessionOptions opts = TF_SessionOptions.newSessionOptions();
      if (target != null && !target.isEmpty()) {
        TF_SetTarget(opts, target);
      }
      BytePointer bytes = new BytePointer(config.toByteArray());
      TF_SetConfig(opts, bytes, bytes.capacity(), status);
      status.throwExceptionIfNotOK();
      TF_Session handle = TF_Session.newSession(ref.nativeHandle(), opts, status);
      status.throwExceptionIfNotOK();
      Session session = new Session(graph, (TF_Session) handle.retainReference());
      session.markAllInitializersAsRan();
      return session;
    }
  }

  /** Sets the device an operation asks for; call before the operation first runs in any session. */
  public static void setDevice(GraphOperation op, String device) {
    try (Graph.Reference ref = ((Graph) op.env()).ref()) {
      TF_SetRequestedDevice(ref.nativeHandle(), op.getUnsafeNativeHandle(), device);
    }
  }

  /** The full names of the devices a session can use, e.g. {@code /job:localhost/replica:0/task:0/device:GPU:0}. */
  public static List<String> devices(Session session) {
    List<String> out = new ArrayList<>();
    try (PointerScope scope = new PointerScope()) {
      TF_Status status = TF_Status.newStatus();
      TF_Session handle = nativeHandle(session);
      TF_DeviceList list = TF_SessionListDevices(handle, status);
      status.throwExceptionIfNotOK();
      try {
        int n = TF_DeviceListCount(list);
        for (int i = 0; i < n; i++) {
          out.add(TF_DeviceListName(list, i, status).getString());
          status.throwExceptionIfNotOK();
        }
      } finally {
        TF_DeleteDeviceList(list);
      }
    }
    return out;
  }

  private static TF_Session nativeHandle(Session session) {
    try {
      java.lang.reflect.Field f = Session.class.getDeclaredField("nativeHandle");
      f.setAccessible(true);
      TF_Session handle = (TF_Session) f.get(session);
      if (handle == null || handle.isNull()) {
        throw new IllegalStateException("the session is closed");
      }
      return handle;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("this TensorFlow Java version has no Session.nativeHandle field", e);
    }
  }
}
