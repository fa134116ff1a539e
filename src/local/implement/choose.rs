//! Which of an attempt's answers is kept, and when writing the others can stop.
//!
//! Without anything to tell passing answers apart, the first in order that passes is kept: the
//! first is the one a single answer would have been, and a sampled one that passes a weak check
//! is not preferred to it. Where the check reports what each answer does beyond what it checks
//! (the spec's examples do: one outcome per probe call, `spec::examples::behaviour`), the
//! passing answers vote: each scores the probes on which it agrees with each other passing
//! answer, the highest score is kept, and a tie goes to the earlier answer — the behaviour most
//! answers share wins, and an answer alone in what it does loses. Whole behaviours are not
//! compared: a small model's samples differ somewhere on odd inputs nearly always, and a
//! match on every probe would leave nothing to vote. This module only chooses: it never runs a
//! check, and never keeps an answer that did not pass.

/// A passing answer of an attempt, as the choice needs it.
pub struct Passing<T> {
    pub index: usize,
    /// Its outcome on each probe, in the check's order, when the check said.
    pub behaviour: Option<Vec<String>>,
    pub answer: T,
}

/// The answers of one attempt so far.
pub struct Choice<T> {
    finished: Vec<bool>,
    passing: Vec<Passing<T>>,
}

impl<T> Choice<T> {
    pub fn new(answers: usize) -> Self {
        Choice {
            finished: vec![false; answers.max(1)],
            passing: Vec::new(),
        }
    }

    /// Answer `index` is written and judged (whether it passed or not).
    pub fn finished(&mut self, index: usize) {
        if let Some(f) = self.finished.get_mut(index) {
            *f = true;
        }
    }

    pub fn passed(&mut self, passing: Passing<T>) {
        self.finished(passing.index);
        self.passing.push(passing);
    }

    /// Whether the passing answers vote: the check told the behaviour of one of them.
    fn votes(&self) -> bool {
        self.passing.iter().any(|p| p.behaviour.is_some())
    }

    /// Whether checking answer `index` can still change what is kept: without votes, only an
    /// answer before the one kept can; with votes, any answer can.
    pub fn worth_checking(&self, index: usize) -> bool {
        self.votes() || self.leader().is_none_or(|kept| index < kept)
    }

    /// Whether no answer still being written can change what is kept. With votes that is when
    /// all are in; or when at most two can ever pass (two answers score alike, and the earlier
    /// wins); or when every passing answer so far behaves alike, none is still being written
    /// before the first of them, and they are at least as many as the answers left. (With p
    /// alike over n probes, each scores (p-1)·n plus what the newcomers share with it; a
    /// newcomer sharing a of the probes with them scores p·a plus at most n less the difference
    /// to each other newcomer — by the triangle inequality on the probes the alike ones stay
    /// ahead by (p-u)·(n-a) or more, and a tie goes to the earlier answer.)
    pub fn settled(&self) -> bool {
        let Some(leader) = self.leader() else {
            return false;
        };
        let unfinished: Vec<usize> = (0..self.finished.len())
            .filter(|i| !self.finished[*i])
            .collect();
        let before = unfinished.iter().all(|i| *i > leader);
        if !self.votes() || self.passing.len() + unfinished.len() <= 2 {
            return before;
        }
        let alike = self
            .passing
            .windows(2)
            .all(|w| w[0].behaviour.is_some() && w[0].behaviour == w[1].behaviour);
        let (p, u) = (self.passing.len(), unfinished.len());
        unfinished.is_empty() || (alike && before && p >= u)
    }

    /// The earliest passing answer: the one kept without a vote.
    pub fn first_passing(&self) -> Option<usize> {
        self.passing.iter().map(|p| p.index).min()
    }

    /// The answer kept when nothing more arrives.
    pub fn into_kept(mut self) -> Option<Passing<T>> {
        let leader = self.leader()?;
        if self.votes() {
            let scores: Vec<(usize, usize)> = self
                .passing
                .iter()
                .map(|p| (p.index, self.score(p)))
                .collect();
            tracing::debug!(?scores, kept = leader, "the passing answers' agreement");
        }
        let at = self.passing.iter().position(|p| p.index == leader)?;
        Some(self.passing.swap_remove(at))
    }

    /// The index of the passing answer with the highest score, the earliest among equals.
    fn leader(&self) -> Option<usize> {
        self.passing
            .iter()
            .map(|p| (self.score(p), p.index))
            .reduce(|a, b| {
                if b.0 > a.0 || (b.0 == a.0 && b.1 < a.1) {
                    b
                } else {
                    a
                }
            })
            .map(|(_, index)| index)
    }

    /// How many probes `p` agrees on with each other passing answer, summed.
    fn score(&self, p: &Passing<T>) -> usize {
        let Some(mine) = &p.behaviour else {
            return 0;
        };
        self.passing
            .iter()
            .filter(|q| q.index != p.index)
            .filter_map(|q| q.behaviour.as_ref())
            // Probes come from the spec's examples, the same for every answer; a list of
            // another length was cut short and compares with nothing.
            .filter(|theirs| theirs.len() == mine.len())
            .map(|theirs| mine.iter().zip(theirs).filter(|(a, b)| a == b).count())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(choice: &mut Choice<usize>, index: usize, behaviour: Option<&str>) {
        choice.passed(Passing {
            index,
            behaviour: behaviour.map(|b| b.split(' ').map(str::to_string).collect()),
            answer: index,
        });
    }

    #[test]
    fn without_votes_the_first_passing_answer_is_kept_once_those_before_it_are_in() {
        let mut c = Choice::new(4);
        pass(&mut c, 2, None);
        assert!(!c.settled(), "answers 0 and 1 may still pass");
        assert!(c.worth_checking(1) && !c.worth_checking(3));
        c.finished(0);
        pass(&mut c, 1, None);
        assert!(c.settled());
        assert_eq!(c.into_kept().unwrap().answer, 1);
    }

    #[test]
    fn the_answer_most_agree_with_is_kept_and_one_alone_loses() {
        let mut c = Choice::new(4);
        pass(&mut c, 0, Some("a a a a"));
        assert!(!c.settled(), "the others may still outvote it");
        assert!(c.worth_checking(3));
        pass(&mut c, 1, Some("b b a x"));
        pass(&mut c, 2, Some("b b a y"));
        assert!(!c.settled(), "answer 3 is still being written");
        pass(&mut c, 3, Some("b c a x"));
        assert!(c.settled());
        // 0 agrees on 1+1+1 = 3 probes, 1 on 1+3+2 = 6, 2 on 1+3+1 = 5, 3 on 1+2+1 = 4.
        assert_eq!(c.into_kept().unwrap().answer, 1);
    }

    #[test]
    fn answers_that_all_behave_alike_settle_once_the_rest_cannot_outnumber_them() {
        let mut c = Choice::new(4);
        pass(&mut c, 1, Some("a b"));
        pass(&mut c, 2, Some("a b"));
        assert!(
            !c.settled(),
            "answer 0 is still being written, and it is earlier than both"
        );
        let mut c = Choice::new(4);
        pass(&mut c, 0, Some("a b"));
        pass(&mut c, 2, Some("a b"));
        assert!(
            c.settled(),
            "1 and 3 could at best tie them, and 0 is earlier"
        );
        let mut c = Choice::new(4);
        pass(&mut c, 0, Some("a b"));
        pass(&mut c, 1, Some("a b"));
        assert!(
            c.settled(),
            "two alike against two left: a tie at best, which 0 wins"
        );
        let mut c = Choice::new(5);
        pass(&mut c, 0, Some("a b"));
        pass(&mut c, 1, Some("a b"));
        assert!(!c.settled(), "three left could outnumber them");
        let mut c = Choice::new(4);
        pass(&mut c, 0, Some("a b"));
        pass(&mut c, 1, Some("a c"));
        assert!(!c.settled(), "not alike: the others decide");
    }

    #[test]
    fn a_tie_keeps_the_earlier_answer_and_two_answers_always_tie() {
        let mut c = Choice::new(4);
        pass(&mut c, 0, Some("a b"));
        pass(&mut c, 2, Some("a c"));
        pass(&mut c, 3, Some("d b"));
        c.finished(1);
        assert!(c.settled());
        assert_eq!(c.into_kept().unwrap().answer, 0);

        let mut c = Choice::new(2);
        pass(&mut c, 0, Some("a"));
        assert!(c.settled(), "with two answers the second can only tie");
        let mut c = Choice::new(3);
        c.finished(0);
        pass(&mut c, 1, Some("a"));
        assert!(c.settled(), "the first failed: at most two can pass");
    }

    #[test]
    fn nothing_passing_keeps_nothing_and_unknown_behaviour_agrees_with_nothing() {
        let mut c: Choice<usize> = Choice::new(3);
        c.finished(0);
        assert!(!c.settled());
        assert!(Choice::<usize>::new(1).into_kept().is_none());
        let mut c = Choice::new(4);
        pass(&mut c, 0, None);
        pass(&mut c, 1, Some("b b"));
        pass(&mut c, 2, Some("b b"));
        pass(&mut c, 3, Some("b b b"));
        // The first has no behaviour, the last a cut list: 1 and 2 agree with each other.
        assert_eq!(c.into_kept().unwrap().answer, 1);
    }
}
