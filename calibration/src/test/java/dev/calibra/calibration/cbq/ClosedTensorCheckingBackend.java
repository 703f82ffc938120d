package dev.calibra.calibration.cbq;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.LearnedWeightQuantization;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.cpu.CpuBackend;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * The CPU backend with the GPU backend's discipline about {@link Tensor#close()}: an op given a
 * closed tensor throws, and the tensors not yet closed are counted. On the CPU closing does
 * nothing, so this is how tests without a GPU find a tensor used after close, or one never
 * closed, before it corrupts or exhausts GPU memory. Results are the CPU backend's, bit for bit.
 */
public final class ClosedTensorCheckingBackend implements InvocationHandler {

  private final CpuBackend cpu = new CpuBackend();
  private final Set<Checked> open = Collections.newSetFromMap(new IdentityHashMap<>());

  /** A CPU tensor that refuses to be used once closed. */
  private final class Checked implements Tensor {
    private final Tensor inner;
    private boolean closed;

    Checked(Tensor inner) {
      this.inner = inner;
      open.add(this);
    }

    @Override
    public int rows() {
      return inner.rows();
    }

    @Override
    public int cols() {
      return inner.cols();
    }

    @Override
    public void close() {
      closed = true;
      open.remove(this);
    }

    Tensor inner() {
      if (closed) {
        throw new IllegalStateException("a closed " + shapeText() + " tensor was used");
      }
      return inner;
    }
  }

  private ClosedTensorCheckingBackend() {}

  /** The backend, and the handler that counts its open tensors. */
  public record Instance(Backend backend, ClosedTensorCheckingBackend checks) {}

  public static Instance create() {
    ClosedTensorCheckingBackend checks = new ClosedTensorCheckingBackend();
    Backend backend = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
        new Class<?>[] {Backend.class}, checks);
    return new Instance(backend, checks);
  }

  /** Tensors made by this backend and not closed yet. */
  public int openTensors() {
    return open.size();
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    Object[] unwrapped = args == null ? null : new Object[args.length];
    for (int i = 0; args != null && i < args.length; i++) {
      unwrapped[i] = unwrap(args[i]);
    }
    Object result;
    try {
      result = method.invoke(cpu, unwrapped);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
    return result instanceof Tensor t ? new Checked(t) : result;
  }

  private Object unwrap(Object argument) {
    if (argument instanceof Tensor t) {
      return tensor(t);
    }
    if (argument instanceof LearnedWeightQuantization q) {
      return new LearnedWeightQuantization(tensor(q.weight()), tensor(q.groupMin()),
          tensor(q.groupMax()), tensor(q.clipLower()), tensor(q.clipUpper()),
          tensor(q.rounding()), q.roundingTemperature(), q.bits(), q.groupSize());
    }
    return argument;
  }

  private Tensor tensor(Tensor t) {
    if (t == null) {
      return null;
    }
    if (t instanceof Checked checked) {
      return checked.inner();
    }
    throw new IllegalArgumentException("a tensor of another backend: " + t);
  }
}
