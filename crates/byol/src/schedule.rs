//! Schedules for the target network's momentum and the learning rate.

/// Lightly's `cosine_schedule`: `end - (end - start) * (cos(pi * step / (max_steps - 1)) + 1) / 2`,
/// rising from `start` at step 0 to `end` at the last step (and `end` when there is one step).
pub fn cosine_schedule(step: u64, max_steps: u64, start: f64, end: f64) -> f64 {
    if max_steps <= 1 || step >= max_steps - 1 {
        return end;
    }
    let progress = step as f64 / (max_steps - 1) as f64;
    end - (end - start) * ((std::f64::consts::PI * progress).cos() + 1.0) / 2.0
}

/// Cosine annealing of the learning rate from `base` to 0 over `max_steps`
/// (torch.optim.lr_scheduler.CosineAnnealingLR with eta_min 0, evaluated in closed form).
pub fn cosine_annealing(step: u64, max_steps: u64, base: f64) -> f64 {
    if max_steps == 0 {
        return base;
    }
    let progress = step.min(max_steps) as f64 / max_steps as f64;
    base * (1.0 + (std::f64::consts::PI * progress).cos()) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn momentum_rises_to_one() {
        assert_eq!(cosine_schedule(0, 10, 0.996, 1.0), 0.996);
        assert_eq!(cosine_schedule(9, 10, 0.996, 1.0), 1.0);
        assert_eq!(cosine_schedule(0, 1, 0.996, 1.0), 1.0);
        assert!((cosine_schedule(5, 11, 0.9, 1.0) - 0.95).abs() < 1e-12);
    }

    #[test]
    fn learning_rate_anneals_to_zero() {
        assert_eq!(cosine_annealing(0, 100, 0.24), 0.24);
        assert!(cosine_annealing(100, 100, 0.24).abs() < 1e-15);
        assert!((cosine_annealing(50, 100, 0.24) - 0.12).abs() < 1e-12);
    }
}
