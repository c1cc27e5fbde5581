package dev.genzoo.graphs.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.tensorflow.op.Op;

/**
 * How one application of a network behaves, and what it leaves behind.
 *
 * <ul>
 *   <li>{@link #training()}: batch statistics in BatchNorm, which records its moving-average updates here;
 *   <li>{@link #inference()}: moving statistics, no side effects;
 *   <li>{@link #dataInit()}: data-dependent initialisation (Salimans & Kingma 2016; Kingma & Dhariwal 2018): ActNorm
 *       computes its scale and bias from the batch, uses them for its own output (so later layers see initialised
 *       activations) and records the assignments here; running {@link #initAssigns()} once initialises the network.
 * </ul>
 */
public final class Pass {
  private final boolean training;
  private final boolean dataInit;
  private final List<Op> updates = new ArrayList<>();
  private final List<Op> initAssigns = new ArrayList<>();

  private Pass(boolean training, boolean dataInit) {
    this.training = training;
    this.dataInit = dataInit;
  }

  public static Pass training() {
    return new Pass(true, false);
  }

  public static Pass inference() {
    return new Pass(false, false);
  }

  public static Pass dataInit() {
    return new Pass(false, true);
  }

  public boolean isTraining() {
    return training;
  }

  public boolean isDataInit() {
    return dataInit;
  }

  public void addUpdate(Op op) {
    updates.add(op);
  }

  public void addInitAssign(Op op) {
    initAssigns.add(op);
  }

  /** State updates to run with each training step (BatchNorm moving statistics). */
  public List<Op> updates() {
    return Collections.unmodifiableList(updates);
  }

  /** The data-dependent initialisation assignments recorded by a {@link #dataInit()} pass. */
  public List<Op> initAssigns() {
    return Collections.unmodifiableList(initAssigns);
  }
}
