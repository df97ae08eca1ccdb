//! The schedule of the target network's momentum (the learning rate's is in TypeScript, `src/`).

/// Lightly's `cosine_schedule`: `end - (end - start) * (cos(pi * step / (max_steps - 1)) + 1) / 2`,
/// rising from `start` at step 0 to `end` at the last step (and `end` when there is one step).
pub fn cosine_schedule(step: u64, max_steps: u64, start: f64, end: f64) -> f64 {
    if max_steps <= 1 || step >= max_steps - 1 {
        return end;
    }
    let progress = step as f64 / (max_steps - 1) as f64;
    end - (end - start) * ((std::f64::consts::PI * progress).cos() + 1.0) / 2.0
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
}
